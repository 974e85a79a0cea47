// bench/scheduler/scheduler_bench.cc — what sim::Scheduler costs, measured
// side by side with its baselines in one process (issue #2).
//
// Four questions, one group of benchmarks each:
//   1. YIELD: one Scheduler::Yield between fibers (seeded and FIFO mode) vs a
//      bare boost::context::fiber round trip (resume into a fiber that
//      resumes straight back; goal: yield <= 2x) and vs Boost.Fiber's
//      this_fiber::yield() between boost::fibers::fiber (a peer; goal:
//      faster). A sim yield and a bare round trip both make two context
//      switches (fiber -> scheduler -> next fiber).
//   2. EVENTS PER SECOND: timer wake-ups (many fibers sleeping for varied
//      virtual durations) and yields per second of CPU (goal >= 10 million).
//   3. SPAWN+JOIN: runtime::Spawn + JoinHandle::Join from a parent fiber,
//      per fiber, vs creating and finishing a bare Boost.Context fiber and
//      vs a Boost.Fiber spawn+join.
//   4. MEMORY: RSS growth per idle fiber (10,000 fibers parked forever on a
//      runtime::Event), from /proc/self/statm, with the heap's share from
//      mallinfo2 (the rest is touched stack pages).
//
// Every figure is a counter whose name carries its unit. Per-op costs are
// thread CPU time (what the "CPU" column measures): other processes on the
// machine stretch wall time much more than these figures (they still cost
// cache). The
// ratio counters (ratio_vs_*) divide by the baseline measured again right
// after the timed loop, in the same benchmark run and for the same number of
// operations, so that load on the machine hits both sides alike; the
// standalone baseline rows give the baselines' own figures. Run with
// --benchmark_repetitions=3 and read the medians (bench/scheduler/run.sh).
#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/context/fiber.hpp>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/operations.hpp>

#include "core/runtime/event.h"
#include "core/runtime/spawn.h"
#include "sim/scheduler/scheduler.h"
#include "sim/scheduler/stack_pool.h"

namespace faultline {
namespace {

namespace ctx = boost::context;

// The paired baselines repeat the measured loop's operation count, capped so
// that slow discovery runs of Google Benchmark stay short.
constexpr uint64_t kMaxPairedOps = 4'000'000;
constexpr size_t kStackSizeBytes = 64 * 1024;  // the scheduler's default

int64_t ThreadCpuNs() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

// CPU time and operation count between Begin() and End().
class CpuSpan {
 public:
  void Begin(uint64_t ops_now) {
    start_ops_ = ops_now;
    start_ns_ = ThreadCpuNs();
  }
  void End(uint64_t ops_now) {
    elapsed_ns_ = ThreadCpuNs() - start_ns_;
    ops_ = ops_now - start_ops_;
  }
  uint64_t ops() const { return ops_; }
  double PerOpNs() const {
    return ops_ == 0 ? 0.0 : static_cast<double>(elapsed_ns_) / static_cast<double>(ops_);
  }
  double OpsPerS() const {
    return elapsed_ns_ == 0 ? 0.0
                            : static_cast<double>(ops_) * 1e9 / static_cast<double>(elapsed_ns_);
  }

 private:
  uint64_t start_ops_ = 0;
  uint64_t ops_ = 0;
  int64_t start_ns_ = 0;
  int64_t elapsed_ns_ = 0;
};

uint64_t PairedOps(uint64_t measured_ops) {
  return std::clamp<uint64_t>(measured_ops, 1, kMaxPairedOps);
}

// Budgets off: a benchmark may run far more steps than a scenario.
sim::SchedulerOptions BenchOptions(bool fifo) {
  sim::SchedulerOptions options;
  options.seed = 42;
  options.fifo = fifo;
  options.stack_size_bytes = kStackSizeBytes;
  options.max_steps = std::numeric_limits<uint64_t>::max();
  options.max_virtual_time_ns = std::numeric_limits<int64_t>::max();
  return options;
}

bool CheckOutcome(benchmark::State& state, const sim::RunResult& result,
                  sim::RunResult::Outcome expected) {
  if (result.outcome == expected) return true;
  static std::string message;  // SkipWithError keeps the pointer
  message = "unexpected outcome: " + std::string(sim::OutcomeName(result.outcome)) + " " +
            result.detail.substr(0, 200);
  state.SkipWithError(message.c_str());
  return false;
}

// A small deterministic generator for sleep durations (splitmix64).
uint64_t NextRandom(uint64_t& seed) {
  uint64_t z = (seed += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// --- baselines -----------------------------------------------------------------

// A bare Boost.Context fiber that resumes its caller straight back: one
// RoundTrip() is two context switches and nothing else.
class BareContextPingPong {
 public:
  BareContextPingPong()
      : partner_([this](ctx::fiber&& caller) {
          while (!stop_) caller = std::move(caller).resume();
          return std::move(caller);
        }) {}
  ~BareContextPingPong() {
    stop_ = true;
    partner_ = std::move(partner_).resume();  // lets the fiber return
  }
  BareContextPingPong(const BareContextPingPong&) = delete;
  BareContextPingPong& operator=(const BareContextPingPong&) = delete;

  void RoundTrip() { partner_ = std::move(partner_).resume(); }

 private:
  bool stop_ = false;
  ctx::fiber partner_;
};

double BareRoundTripNs(uint64_t round_trips) {
  BareContextPingPong ping_pong;
  ping_pong.RoundTrip();  // first entry builds the fiber's frame
  CpuSpan span;
  span.Begin(0);
  for (uint64_t i = 0; i < round_trips; ++i) ping_pong.RoundTrip();
  span.End(round_trips);
  return span.PerOpNs();
}

// Runs `driver(count)` on one Boost.Fiber fiber while `fibers - 1` others call
// this_fiber::yield() until it returns; every yield increments `count`.
template <typename Driver>
void RunBoostFibers(int fibers, uint64_t& count, Driver driver) {
  bool done = false;
  std::vector<boost::fibers::fiber> peers;
  peers.reserve(static_cast<size_t>(fibers));
  peers.emplace_back([&] {
    driver(count);
    done = true;
  });
  for (int i = 1; i < fibers; ++i) {
    peers.emplace_back([&] {
      while (!done) {
        boost::this_fiber::yield();
        ++count;
      }
    });
  }
  for (auto& fiber : peers) fiber.join();
}

double BoostFiberYieldNs(int fibers, uint64_t driver_yields) {
  uint64_t yields = 0;
  CpuSpan span;
  RunBoostFibers(fibers, yields, [&](uint64_t& count) {
    span.Begin(count);
    for (uint64_t i = 0; i < driver_yields; ++i) {
      boost::this_fiber::yield();
      ++count;
    }
    span.End(count);
  });
  return span.PerOpNs();
}

// Creates a Boost.Context fiber on a pooled stack, runs it to completion.
double BareSpawnFinishNs(uint64_t spawns) {
  sim::StackPool pool(kStackSizeBytes);
  uint64_t ran = 0;
  CpuSpan span;
  span.Begin(0);
  for (uint64_t i = 0; i < spawns; ++i) {
    ctx::fiber fiber(std::allocator_arg, sim::PooledStackAllocator(pool),
                     [&ran](ctx::fiber&& caller) {
                       ++ran;
                       return std::move(caller);
                     });
    fiber = std::move(fiber).resume();
  }
  span.End(ran);
  return span.PerOpNs();
}

// boost::fibers::fiber + join() from the main context, on the same pooled
// stacks as the scheduler.
double BoostFiberSpawnJoinNs(uint64_t spawns) {
  sim::StackPool pool(kStackSizeBytes);
  uint64_t ran = 0;
  CpuSpan span;
  span.Begin(0);
  for (uint64_t i = 0; i < spawns; ++i) {
    boost::fibers::fiber child(std::allocator_arg, sim::PooledStackAllocator(pool),
                               [&ran] { ++ran; });
    child.join();
  }
  span.End(ran);
  return span.PerOpNs();
}

void BM_BareContextRoundTrip(benchmark::State& state) {
  BareContextPingPong ping_pong;
  ping_pong.RoundTrip();
  uint64_t round_trips = 0;
  CpuSpan span;
  span.Begin(0);
  for (auto _ : state) {
    ping_pong.RoundTrip();
    ++round_trips;
  }
  span.End(round_trips);
  state.counters["round_trip_ns"] = span.PerOpNs();
}
BENCHMARK(BM_BareContextRoundTrip);

void BM_BoostFiberYield(benchmark::State& state) {
  const int fibers = static_cast<int>(state.range(0));
  uint64_t yields = 0;
  CpuSpan span;
  RunBoostFibers(fibers, yields, [&](uint64_t& count) {
    span.Begin(count);
    for (auto _ : state) {
      boost::this_fiber::yield();
      ++count;
    }
    span.End(count);
  });
  state.counters["yield_ns"] = span.PerOpNs();
  state.counters["yields_per_s"] = span.OpsPerS();
}
BENCHMARK(BM_BoostFiberYield)->ArgName("fibers")->Arg(2)->Arg(1000);

// --- 1. yield -------------------------------------------------------------------

// `fibers` fibers call Scheduler::Yield in a loop; the first drives the
// benchmark loop. Every yield of every fiber counts.
void BM_SchedulerYield(benchmark::State& state) {
  const bool fifo = state.range(0) != 0;
  const int fibers = static_cast<int>(state.range(1));
  uint64_t yields = 0;
  CpuSpan span;
  {
    sim::Scheduler scheduler(BenchOptions(fifo));
    bool done = false;
    scheduler.StartFiber("driver", [&] {
      span.Begin(yields);
      for (auto _ : state) {
        scheduler.Yield();
        ++yields;
      }
      span.End(yields);
      done = true;
    });
    for (int i = 1; i < fibers; ++i) {
      scheduler.StartFiber("peer", [&] {
        while (!done) {
          scheduler.Yield();
          ++yields;
        }
      });
    }
    if (!CheckOutcome(state, scheduler.Run(), sim::RunResult::Outcome::kCompleted)) return;
  }
  const double yield_ns = span.PerOpNs();
  // Baselines for the same number of yields, measured now (see file comment).
  const uint64_t paired = PairedOps(span.ops());
  const double bare_ns = BareRoundTripNs(paired);
  const double boost_fiber_ns = BoostFiberYieldNs(fibers, std::max<uint64_t>(1, paired / fibers));
  state.counters["yield_ns"] = yield_ns;
  state.counters["yields_per_s"] = span.OpsPerS();
  state.counters["bare_round_trip_ns"] = bare_ns;
  state.counters["boost_fiber_yield_ns"] = boost_fiber_ns;
  state.counters["ratio_vs_bare"] = yield_ns / bare_ns;                // goal <= 2
  state.counters["ratio_vs_boost_fiber"] = yield_ns / boost_fiber_ns;  // goal < 1
}
BENCHMARK(BM_SchedulerYield)
    ->ArgNames({"fifo", "fibers"})
    ->Args({0, 2})
    ->Args({1, 2})
    ->Args({0, 1000})
    ->Args({1, 1000});

// --- 2. events per second -----------------------------------------------------------

// `fibers` fibers each sleep 1..1000 virtual ns (varied), forever. One
// benchmark iteration runs the scheduler for kWakeupsPerRun timer wake-ups.
void BM_SchedulerTimerEvents(benchmark::State& state) {
  constexpr uint64_t kWakeupsPerRun = 10'000;
  const bool fifo = state.range(0) != 0;
  const int fibers = static_cast<int>(state.range(1));
  sim::Scheduler scheduler(BenchOptions(fifo));
  uint64_t wakeups = 0;
  uint64_t stop_at = 0;
  for (int i = 0; i < fibers; ++i) {
    scheduler.StartFiber("sleeper", [&, i] {
      uint64_t seed = static_cast<uint64_t>(i);
      while (true) {
        scheduler.SleepFor(static_cast<int64_t>(1 + NextRandom(seed) % 1000));
        if (++wakeups == stop_at) scheduler.Stop("batch done");
      }
    });
  }
  // Warm-up outside the timing: every sleeper runs to its first sleep.
  stop_at = wakeups + kWakeupsPerRun;
  if (!CheckOutcome(state, scheduler.Run(), sim::RunResult::Outcome::kStopped)) return;

  CpuSpan span;
  span.Begin(wakeups);
  for (auto _ : state) {
    stop_at = wakeups + kWakeupsPerRun;
    if (!CheckOutcome(state, scheduler.Run(), sim::RunResult::Outcome::kStopped)) return;
  }
  span.End(wakeups);
  state.counters["events_per_s"] = span.OpsPerS();  // goal >= 10M
  state.counters["event_ns"] = span.PerOpNs();
}
BENCHMARK(BM_SchedulerTimerEvents)
    ->ArgNames({"fifo", "fibers"})
    ->Args({0, 100})
    ->Args({1, 100})
    ->Args({0, 10000})
    ->Args({1, 10000});

// --- 3. spawn + join --------------------------------------------------------------

// A parent fiber spawns `batch` children (each returns at once), then joins
// them all; per child.
void BM_SchedulerSpawnJoin(benchmark::State& state) {
  const int batch = static_cast<int>(state.range(0));
  uint64_t joined = 0;
  CpuSpan span;
  {
    sim::Scheduler scheduler(BenchOptions(/*fifo=*/false));
    scheduler.StartFiber("parent", [&] {
      std::vector<runtime::JoinHandle> children(static_cast<size_t>(batch));
      span.Begin(joined);
      for (auto _ : state) {
        for (auto& child : children) {
          child = runtime::Spawn(scheduler, "child", [] {});
        }
        for (auto& child : children) child.Join();
        joined += static_cast<uint64_t>(batch);
      }
      span.End(joined);
    });
    if (!CheckOutcome(state, scheduler.Run(), sim::RunResult::Outcome::kCompleted)) return;
  }
  const double spawn_join_ns = span.PerOpNs();
  const uint64_t paired = PairedOps(span.ops());
  const double bare_ns = BareSpawnFinishNs(paired);
  const double boost_fiber_ns = BoostFiberSpawnJoinNs(paired);
  state.counters["spawn_join_ns"] = spawn_join_ns;
  state.counters["bare_spawn_finish_ns"] = bare_ns;
  state.counters["boost_fiber_spawn_join_ns"] = boost_fiber_ns;
  state.counters["ratio_vs_bare"] = spawn_join_ns / bare_ns;
  state.counters["ratio_vs_boost_fiber"] = spawn_join_ns / boost_fiber_ns;
}
BENCHMARK(BM_SchedulerSpawnJoin)->ArgName("batch")->Arg(1)->Arg(100);

// --- 4. memory per idle fiber -------------------------------------------------------

int64_t ResidentBytes() {
  FILE* statm = std::fopen("/proc/self/statm", "r");
  if (statm == nullptr) return -1;
  long size_pages = 0;
  long resident_pages = 0;
  const int fields = std::fscanf(statm, "%ld %ld", &size_pages, &resident_pages);
  std::fclose(statm);
  if (fields != 2) return -1;
  return int64_t{resident_pages} * sysconf(_SC_PAGESIZE);
}

int64_t HeapInUseBytes() { return static_cast<int64_t>(mallinfo2().uordblks); }

// `fibers` fibers each wait on an Event that is never set; the last one to
// park stops the run, and RSS is read with all of them parked.
void BM_IdleFiberMemory(benchmark::State& state) {
  const int fibers = static_cast<int>(state.range(0));
  struct Shared {
    sim::Scheduler* scheduler = nullptr;
    runtime::Event* never = nullptr;
    int fibers = 0;
    int parked = 0;
  };
  int64_t rss_growth_bytes = 0;
  int64_t heap_growth_bytes = 0;
  for (auto _ : state) {
    malloc_trim(0);  // earlier runs' freed memory must not be reused unseen
    const int64_t rss_before_bytes = ResidentBytes();
    const int64_t heap_before_bytes = HeapInUseBytes();
    auto scheduler = std::make_unique<sim::Scheduler>(BenchOptions(/*fifo=*/false));
    auto never = std::make_unique<runtime::Event>(*scheduler);
    Shared shared{.scheduler = scheduler.get(), .never = never.get(), .fibers = fibers};
    for (int i = 0; i < fibers; ++i) {
      // Captures one pointer, so the body fits AnyInvocable's inline storage:
      // the figure is the scheduler's own cost, not a big closure's.
      scheduler->StartFiber("idle", [s = &shared] {
        if (++s->parked == s->fibers) s->scheduler->Stop("all parked");
        s->never->Wait();
      });
    }
    const sim::RunResult result = scheduler->Run();
    rss_growth_bytes = ResidentBytes() - rss_before_bytes;
    heap_growth_bytes = HeapInUseBytes() - heap_before_bytes;
    if (!CheckOutcome(state, result, sim::RunResult::Outcome::kStopped)) return;
    if (shared.parked != fibers || scheduler->live_fibers() != static_cast<size_t>(fibers)) {
      state.SkipWithError("not every fiber parked");
      return;
    }
    scheduler.reset();  // unwinds the parked fibers, which unlink from `never`
    never.reset();
  }
  state.counters["fibers"] = fibers;
  state.counters["rss_growth_total_bytes"] =
      benchmark::Counter(static_cast<double>(rss_growth_bytes), benchmark::Counter::kDefaults,
                         benchmark::Counter::kIs1024);
  state.counters["rss_growth_total_MiB"] =
      static_cast<double>(rss_growth_bytes) / (1024.0 * 1024.0);
  state.counters["bytes_per_idle_fiber"] =
      static_cast<double>(rss_growth_bytes) / static_cast<double>(fibers);
  state.counters["heap_bytes_per_idle_fiber"] =
      static_cast<double>(heap_growth_bytes) / static_cast<double>(fibers);
  state.counters["stack_bytes_per_idle_fiber"] =
      static_cast<double>(rss_growth_bytes - heap_growth_bytes) / static_cast<double>(fibers);
}
// One iteration: a second run in the same scheduler-free process would
// partly reuse the first one's freed heap.
BENCHMARK(BM_IdleFiberMemory)->ArgName("fibers")->Arg(10'000)->Iterations(1);

}  // namespace
}  // namespace faultline

BENCHMARK_MAIN();
