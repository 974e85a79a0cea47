// bench/posix/tcp_load_bench.cc — TcpNetwork under hostile load, on
// 127.0.0.1 only, bounded in time and connections.
//
// N well-behaved senders (endpoints of one TcpNetwork, under the cluster
// key) send 256-byte messages as fast as back-pressure lets them to one
// receiver endpoint, for S seconds per phase. Phases alternate: a baseline
// with nobody else, then the same under attack by a separate process
// (bench/posix/tcp_attackers.h: idle, slowloris, garbage, forged-`from`
// frames under a wrong key, and an fd flood). Fresh endpoints per phase, so
// the senders connect while the attack is already running. This process
// runs with RLIMIT_NOFILE lowered to 1024 (a common default), so the flood
// could take every descriptor without the network's budget; mid-attack it
// opens 128 files to check that the disk path still gets descriptors.
//
// Prints messages/s delivered from the senders per phase, the ratio
// attack / baseline over all rounds (goal >= 0.8), the receiver's
// defensive counters, and the process's max RSS after the baseline phases
// and at the end.
//
// Usage: tcp_load_bench [--seconds S (1..30, default 3)] [--senders N
// (1..64, default 4)] [--rounds R (1..5, default 2)]
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "bench/posix/tcp_attackers.h"
#include "core/posix/event_loop.h"
#include "core/posix/tcp_network.h"

namespace faultline::bench {
namespace {

constexpr int64_t kSecond = io::kNanosPerSecond;
constexpr int64_t kRampNs = kSecond / 2;  // attack running before senders start
constexpr size_t kPayloadBytes = 256;
constexpr int kFilesToOpen = 128;

struct Config {
  int seconds = 3;
  int senders = 4;
  int rounds = 2;
};

bool ParseArgs(int argc, char** argv, Config& config) {
  for (int i = 1; i < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return false;
    const std::string_view text = argv[i + 1];
    int value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) return false;
    if (flag == "--seconds" && value >= 1 && value <= 30) {
      config.seconds = value;
    } else if (flag == "--senders" && value >= 1 && value <= 64) {
      config.senders = value;
    } else if (flag == "--rounds" && value >= 1 && value <= 5) {
      config.rounds = value;
    } else {
      return false;
    }
  }
  return true;
}

// The attacker process: waits for a plan (port, then the impersonated
// address), attacks, reports; a zero port ends it.
[[noreturn]] void AttackerMain(int commands, int reports) {
  while (true) {
    uint16_t port = 0;
    char impersonated[256] = {};
    int64_t duration_ns = 0;
    if (read(commands, &port, sizeof(port)) != sizeof(port) || port == 0) _exit(0);
    if (read(commands, &duration_ns, sizeof(duration_ns)) != sizeof(duration_ns) ||
        read(commands, impersonated, sizeof(impersonated)) != sizeof(impersonated)) {
      _exit(1);
    }
    AttackPlan plan;
    plan.port = port;
    plan.impersonated = impersonated;
    plan.duration_ns = duration_ns;
    const AttackCounts counts = RunAttack(plan);
    if (write(reports, &counts, sizeof(counts)) != sizeof(counts)) _exit(1);
  }
}

struct Attacker {
  int commands = -1;
  int reports = -1;
  pid_t pid = -1;
};

Attacker StartAttacker() {
  int commands[2];
  int reports[2];
  if (pipe(commands) != 0 || pipe(reports) != 0) return {};
  const pid_t pid = fork();
  if (pid == 0) {
    close(commands[1]);
    close(reports[0]);
    // Its own descriptor table: as many connections as the hard limit lets.
    rlimit limit{};
    getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 8192);
    setrlimit(RLIMIT_NOFILE, &limit);
    // The attackers stand for remote machines: their own CPU time should
    // not be taken from the process under test on a small machine.
    (void)!nice(19);
    AttackerMain(commands[0], reports[1]);
  }
  close(commands[0]);
  close(reports[1]);
  return Attacker{.commands = commands[1], .reports = reports[0], .pid = pid};
}

struct PhaseResult {
  double messages_per_second = 0;
  uint64_t impostors = 0;  // messages whose `from` is not a sender (must be 0)
  int files_opened = -1;   // mid-attack, of kFilesToOpen
  AttackCounts attack;
  posix::TcpStats stats_delta;
};

int OpenFiles() {
  std::vector<int> fds;
  for (int i = 0; i < kFilesToOpen; ++i) {
    const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) fds.push_back(fd);
  }
  for (int fd : fds) close(fd);
  return static_cast<int>(fds.size());
}

void TellAttacker(const Attacker& attacker, uint16_t port, const std::string& impersonated,
                  int64_t duration_ns) {
  char address[256] = {};
  std::memcpy(address, impersonated.data(), std::min(impersonated.size(), sizeof(address) - 1));
  (void)!write(attacker.commands, &port, sizeof(port));
  (void)!write(attacker.commands, &duration_ns, sizeof(duration_ns));
  (void)!write(attacker.commands, address, sizeof(address));
}

uint16_t PortOf(const io::Address& address) {
  unsigned port = 0;
  const size_t colon = address.rfind(':');
  std::from_chars(address.data() + colon + 1, address.data() + address.size(), port);
  return static_cast<uint16_t>(port);
}

// The receiver's defensive counters that changed from `before` to `after`.
posix::TcpStats DefenceDelta(const posix::TcpStats& before, const posix::TcpStats& after) {
  posix::TcpStats delta;
  delta.connections_evicted = after.connections_evicted - before.connections_evicted;
  delta.connections_refused = after.connections_refused - before.connections_refused;
  delta.connections_timed_out = after.connections_timed_out - before.connections_timed_out;
  delta.connections_over_memory = after.connections_over_memory - before.connections_over_memory;
  delta.frames_forged = after.frames_forged - before.frames_forged;
  delta.frames_rejected = after.frames_rejected - before.frames_rejected;
  delta.accept_failures = after.accept_failures - before.accept_failures;
  return delta;
}

// Runs one phase in a fiber of `loop`; `attacker` null for the baseline.
PhaseResult RunPhase(posix::EventLoop& loop, posix::TcpNetwork& network, const Config& config,
                     const Attacker* attacker) {
  PhaseResult result;
  const posix::TcpStats before = network.stats();
  loop.StartFiber("phase", [&] {
    auto receiver = network.Listen("127.0.0.1:0");
    if (!receiver.ok()) return;
    std::vector<std::unique_ptr<io::Endpoint>> senders;
    std::set<io::Address> sender_addresses;
    for (int i = 0; i < config.senders; ++i) {
      auto sender = network.Listen("127.0.0.1:0");
      if (!sender.ok()) return;
      sender_addresses.insert((*sender)->address());
      senders.push_back(std::move(*sender));
    }
    const int64_t measure_ns = config.seconds * kSecond;
    if (attacker != nullptr) {
      TellAttacker(*attacker, PortOf((*receiver)->address()), senders[0]->address(),
                   kRampNs + measure_ns + kSecond / 5);
      loop.SleepFor(kRampNs);
    }
    const int64_t end_ns = loop.NowNs() + measure_ns;
    const std::string payload(kPayloadBytes, 'w');
    int running = config.senders;
    for (auto& sender : senders) {
      loop.StartFiber("sender", [&, endpoint = sender.get()] {
        const io::Address to = (*receiver)->address();
        while (loop.NowNs() < end_ns) {  // bounded by the phase's end
          for (int i = 0; i < 64; ++i) {
            if (!endpoint->Send(to, payload).ok()) {
              loop.SleepFor(100 * io::kNanosPerMicro);
              break;
            }
          }
          loop.Yield();
        }
        --running;
      });
    }
    uint64_t delivered = 0;
    bool checked_files = attacker == nullptr;
    while (loop.NowNs() < end_ns) {  // bounded by the phase's end
      auto message = (*receiver)->Receive(10 * io::kNanosPerMilli);
      if (message.ok()) {
        ++(sender_addresses.count(message->from) > 0 ? delivered : result.impostors);
      }
      if (!checked_files && loop.NowNs() >= end_ns - measure_ns / 2) {
        result.files_opened = OpenFiles();
        checked_files = true;
      }
    }
    for (int i = 0; i < 1000 && running > 0; ++i) loop.SleepFor(io::kNanosPerMilli);
    result.messages_per_second = static_cast<double>(delivered) / config.seconds;
  });
  loop.Run();
  if (attacker != nullptr) {
    (void)!read(attacker->reports, &result.attack, sizeof(result.attack));
  }
  result.stats_delta = DefenceDelta(before, network.stats());
  return result;
}

double MaxRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

void PrintAttack(int round, const PhaseResult& r) {
  const posix::TcpStats& s = r.stats_delta;
  std::printf(
      "round %d attack:   %10.0f msg/s  impostors %lu  files opened mid-attack %d/%d\n"
      "    attacker: %lu connects, %lu bytes, %d connections open at its end\n"
      "    receiver: evicted %lu  refused %lu  timed_out %lu  over_memory %lu  forged %lu  "
      "rejected %lu  accept_failures %lu\n",
      round, r.messages_per_second, static_cast<unsigned long>(r.impostors), r.files_opened,
      kFilesToOpen, static_cast<unsigned long>(r.attack.connects),
      static_cast<unsigned long>(r.attack.bytes_sent), r.attack.open_at_end,
      static_cast<unsigned long>(s.connections_evicted),
      static_cast<unsigned long>(s.connections_refused),
      static_cast<unsigned long>(s.connections_timed_out),
      static_cast<unsigned long>(s.connections_over_memory),
      static_cast<unsigned long>(s.frames_forged), static_cast<unsigned long>(s.frames_rejected),
      static_cast<unsigned long>(s.accept_failures));
}

}  // namespace
}  // namespace faultline::bench

int main(int argc, char** argv) {
  using namespace faultline;
  bench::Config config;
  if (!bench::ParseArgs(argc, argv, config)) {
    std::fprintf(stderr,
                 "usage: tcp_load_bench [--seconds 1..30] [--senders 1..64] [--rounds 1..5]\n");
    return 2;
  }
  // Before any thread exists: the attacker is a plain fork.
  const bench::Attacker attacker = bench::StartAttacker();
  if (attacker.pid < 0) {
    std::fprintf(stderr, "tcp_load_bench: cannot start the attacker process\n");
    return 1;
  }
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 1024);
  setrlimit(RLIMIT_NOFILE, &limit);
  std::printf("tcp_load_bench: %d senders, %d s per phase, %d rounds, RLIMIT_NOFILE %lu, "
              "127.0.0.1\n",
              config.senders, config.seconds, config.rounds,
              static_cast<unsigned long>(limit.rlim_cur));
  posix::EventLoop loop;
  posix::TcpNetworkOptions options;
  options.cluster_key = "tcp-load-bench-cluster-key-01234";
  posix::TcpNetwork network(loop, options);
  double baseline_sum = 0;
  double attack_sum = 0;
  double baseline_rss_mib = 0;
  for (int round = 1; round <= config.rounds; ++round) {
    const bench::PhaseResult baseline = bench::RunPhase(loop, network, config, nullptr);
    if (round == 1) baseline_rss_mib = bench::MaxRssMiB();
    std::printf("round %d baseline: %10.0f msg/s\n", round, baseline.messages_per_second);
    const bench::PhaseResult attacked = bench::RunPhase(loop, network, config, &attacker);
    bench::PrintAttack(round, attacked);
    std::fflush(stdout);
    baseline_sum += baseline.messages_per_second;
    attack_sum += attacked.messages_per_second;
  }
  const uint16_t stop = 0;
  (void)!write(attacker.commands, &stop, sizeof(stop));
  waitpid(attacker.pid, nullptr, 0);
  std::printf("delivered under attack / baseline = %.2f (goal >= 0.8)\n",
              baseline_sum > 0 ? attack_sum / baseline_sum : 0.0);
  std::printf("max RSS: %.1f MiB after the first baseline phase, %.1f MiB at the end\n",
              baseline_rss_mib, bench::MaxRssMiB());
  return 0;
}
