// tests/core/replication/replication_sim_test.cc — Leader and Follower on
// the deterministic scheduler, over a test-only lossy bus (drops,
// duplicates, reordering, corruption) and an in-memory disk, with crashes
// of followers and of the leader that lose whatever was not synced. Per
// seed: every follower applies gap-free across incarnations; once faults
// stop, every record whose Append reported it committed is on all three
// logs, and the followers' logs are byte-equal to the leader's.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/replication/follower.h"
#include "core/replication/leader.h"
#include "core/runtime/spawn.h"
#include "core/wal/wal.h"
#include "sim/scheduler/scheduler.h"
#include "spdlog/spdlog.h"
#include "tests/core/replication/lossy_bus.h"
#include "tests/core/wal/fake_file_system.h"

namespace faultline::replication {
namespace {

using testing::BusFaults;
using testing::LossyBus;
using wal::testing::FakeFileSystem;

constexpr int kNodes = 3;  // node 0 leads
constexpr uint64_t kRecords = 300;
constexpr int64_t kMs = io::kNanosPerMilli;
const char* const kNames[kNodes] = {"n0", "n1", "n2"};

wal::WalOptions WalOpts() {
  wal::WalOptions options;
  options.segment_size_bytes = 16 << 10;
  options.max_record_bytes = 1024;
  return options;
}

LeaderOptions LeaderOpts() {
  LeaderOptions options;
  options.max_batch_records = 16;
  options.flow.max_inflight_batches = 4;
  options.flow.retransmit_timeout_ns = 50 * kMs;
  options.flow.heartbeat_interval_ns = 20 * kMs;
  return options;
}

class SimCluster {
 public:
  explicit SimCluster(uint64_t seed)
      : scheduler_(sim::SchedulerOptions{.seed = seed}), bus_(scheduler_, seed), rng_(seed) {
    spdlog::set_level(spdlog::level::off);
    for (int i = 0; i < kNodes; ++i) {
      fs_[i].set_sync_latency_ns(scheduler_, 1 * kMs);
      nodes_[i] = scheduler_.AddNode(kNames[i]);
    }
  }

  void Run() {
    for (int i = 0; i < kNodes; ++i) scheduler_.StartFiberOn(nodes_[i], "main", Main(i));
    scheduler_.StartFiber("nemesis", [this] { Nemesis(); });
    const sim::RunResult result = scheduler_.Run();
    ASSERT_TRUE(result.ok()) << sim::OutcomeName(result.outcome) << ": " << result.detail;
    Check();
    // The run did what it is for: records committed through faults.
    EXPECT_GT(committed_.size(), kRecords / 2);
  }

  uint64_t crashes() const { return crashes_; }
  uint64_t network_faults() const { return bus_.faults_injected(); }

 private:
  uint64_t Draw(uint64_t n) { return rng_() % n; }
  static std::string Payload(uint64_t index) {
    return absl::StrCat("record-", index, std::string(index % 200, static_cast<char>(index)));
  }

  absl::AnyInvocable<void() &&> Main(int i) {
    return [this, i] { i == 0 ? LeaderMain() : FollowerMain(i); };
  }

  std::unique_ptr<wal::Wal> OpenWal(int i) {
    if (!*fs_[i].Exists("wal")) {
      EXPECT_TRUE(fs_[i].CreateDir("wal").ok());
    }
    auto opened = wal::Wal::Open(fs_[i], scheduler_, "wal", WalOpts());
    EXPECT_TRUE(opened.ok()) << kNames[i] << ": " << opened.status();
    return opened.ok() ? std::move(*opened) : nullptr;
  }

  void LeaderMain() {
    std::unique_ptr<wal::Wal> log = OpenWal(0);
    if (log == nullptr) return;
    auto endpoint = *bus_.Listen(kNames[0]);
    auto leader = *Leader::Create(scheduler_, *log, *endpoint, bus_.max_message_bytes(),
                                  WalOpts().max_record_bytes, {kNames[1], kNames[2]},
                                  LeaderOpts());
    leader->Start();
    struct Publish {
      Leader** slot;
      ~Publish() { *slot = nullptr; }
    } publish{&leader_};
    leader_ = leader.get();
    std::vector<runtime::JoinHandle> appenders;
    for (int a = 0; a < 8; ++a) {
      appenders.push_back(runtime::Spawn(scheduler_, "appender", [&] {
        while (next_record_ < kRecords) {
          const uint64_t index = next_record_++;
          const std::string payload = Payload(index);
          auto committed =
              leader->Append(payload, runtime::DeadlineAfter(scheduler_.NowNs(), 60'000 * kMs));
          if (committed.ok()) committed_[*committed] = payload;
        }
      }));
    }
    for (auto& appender : appenders) appender.Join();
    appending_done_ = true;
    while (!stop_) scheduler_.SleepFor(10 * kMs);
    leader->Stop();
    logs_[0] = ReadAll(*log);
    EXPECT_TRUE(log->Close().ok());
  }

  void FollowerMain(int i) {
    std::unique_ptr<wal::Wal> log = OpenWal(i);
    if (log == nullptr) return;
    next_apply_[i] = log->durable_sequence() + 1;
    // Acknowledged means durable: whatever the leader holds as acknowledged
    // by this follower survived its crash.
    if (leader_ != nullptr) {
      for (const PeerStatus& peer : leader_->peers()) {
        if (peer.address != kNames[i]) continue;
        EXPECT_LE(peer.acked_sequence, log->durable_sequence())
            << kNames[i] << " acknowledged records its crash lost";
      }
    }
    FollowerOptions options;
    options.resend_interval_ns = 10 * kMs;
    options.on_append = [this, i](uint64_t sequence, std::string_view) {
      if (sequence != next_apply_[i]) {
        ADD_FAILURE() << kNames[i] << " applied " << sequence << ", expected " << next_apply_[i];
      }
      next_apply_[i] = sequence + 1;
    };
    auto endpoint = *bus_.Listen(kNames[i]);
    auto follower = *Follower::Create(scheduler_, *log, *endpoint, kNames[0], options);
    follower->Start();
    // Cleared on every exit, the crash's unwinding included.
    struct Publish {
      Follower** slot;
      ~Publish() { *slot = nullptr; }
    } publish{&followers_[i]};
    followers_[i] = follower.get();
    while (!stop_) scheduler_.SleepFor(10 * kMs);
    follower->Stop();
    EXPECT_TRUE(follower->health().ok()) << follower->health();
    logs_[i] = ReadAll(*log);
    EXPECT_TRUE(log->Close().ok());
  }

  static std::vector<wal::Record> ReadAll(wal::Wal& log) {
    std::vector<wal::Record> records;
    auto reader = log.NewReader(1);
    if (!reader.ok()) return records;
    for (uint64_t i = 0; i <= log.durable_sequence(); ++i) {
      auto next = (*reader)->Next();
      if (!next.ok() || !next->has_value()) break;
      records.push_back(std::move(**next));
    }
    return records;
  }

  void CrashAndRestart(int i) {
    ++crashes_;
    scheduler_.Crash(nodes_[i], "nemesis");
    fs_[i].Crash(/*keep_unsynced_bytes=*/Draw(300));  // maybe a torn tail
    scheduler_.SleepFor(static_cast<int64_t>(Draw(100)) * kMs);
    scheduler_.Restart(nodes_[i], "main", Main(i));
  }

  void Nemesis() {
    bus_.set_faults(BusFaults{static_cast<int>(Draw(20)), static_cast<int>(Draw(10)),
                              static_cast<int>(Draw(40)), static_cast<int>(Draw(5))});
    const uint64_t crashes = Draw(4);
    for (uint64_t c = 0; c < crashes && !appending_done_; ++c) {
      scheduler_.SleepFor(static_cast<int64_t>(5 + Draw(200)) * kMs);
      CrashAndRestart(Draw(4) == 0 ? 0 : 1 + static_cast<int>(Draw(2)));
    }
    while (!appending_done_) scheduler_.SleepFor(10 * kMs);
    bus_.set_faults(BusFaults{});  // heal; liveness from here on
    const uint64_t target = committed_.empty() ? 0 : committed_.rbegin()->first;
    const int64_t give_up_ns = scheduler_.NowNs() + 30'000 * kMs;
    while (scheduler_.NowNs() < give_up_ns && !(Holds(1, target) && Holds(2, target))) {
      scheduler_.SleepFor(10 * kMs);
    }
    for (int i = 1; i < kNodes; ++i) {
      EXPECT_TRUE(Holds(i, target)) << "stall: " << kNames[i] << " waits for sequence "
                                    << (followers_[i] ? followers_[i]->committed_sequence() + 1 : 0)
                                    << " of " << target;
    }
    stop_ = true;
  }

  bool Holds(int i, uint64_t sequence) const {
    return followers_[i] != nullptr && followers_[i]->committed_sequence() >= sequence;
  }

  void Check() {
    for (const auto& [sequence, payload] : committed_) {
      for (int i = 0; i < kNodes; ++i) {
        ASSERT_GE(logs_[i].size(), sequence) << kNames[i] << " lost committed " << sequence;
        ASSERT_EQ(logs_[i][sequence - 1].payload, payload) << kNames[i] << " at " << sequence;
      }
    }
    for (int i = 1; i < kNodes; ++i) {
      ASSERT_LE(logs_[i].size(), logs_[0].size()) << kNames[i];
      for (size_t k = 0; k < logs_[i].size(); ++k) {
        ASSERT_EQ(logs_[i][k].sequence, k + 1);
        ASSERT_EQ(logs_[i][k].payload, logs_[0][k].payload) << kNames[i] << " at " << k + 1;
      }
    }
  }

  sim::Scheduler scheduler_;
  LossyBus bus_;
  std::mt19937_64 rng_;
  FakeFileSystem fs_[kNodes];
  sim::NodeId nodes_[kNodes] = {};
  Leader* leader_ = nullptr;
  Follower* followers_[kNodes] = {};
  uint64_t next_apply_[kNodes] = {};
  std::vector<wal::Record> logs_[kNodes];
  std::map<uint64_t, std::string> committed_;  // sequence -> payload, Append said committed
  uint64_t next_record_ = 0;
  bool appending_done_ = false;
  bool stop_ = false;
  uint64_t crashes_ = 0;
};

TEST(ReplicationSim, GapFreeAndCommittedNeverLostUnderFaultsAndCrashes) {
  uint64_t crashes = 0;
  uint64_t network_faults = 0;
  for (uint64_t seed = 1; seed <= 200; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    SimCluster cluster(seed);
    cluster.Run();
    if (::testing::Test::HasFailure()) break;
    crashes += cluster.crashes();
    network_faults += cluster.network_faults();
  }
  // The seeds did crash nodes and disturb the network.
  EXPECT_GT(crashes, 100u);
  EXPECT_GT(network_faults, 1000u);
}

// A network that refuses every Send (back-pressure) must not make the
// leader's shipper spin: it keeps pacing heartbeats in virtual time, and the
// run stays far inside a small step budget.
TEST(ReplicationSim, ALeaderFacingBackPressureDoesNotSpin) {
  sim::Scheduler scheduler(sim::SchedulerOptions{.seed = 3, .max_steps = 100'000});
  LossyBus bus(scheduler, 3);
  bus.set_faults(BusFaults{.refuse_sends = true});
  FakeFileSystem fs;
  uint64_t heartbeats = 0;
  scheduler.StartFiber("leader", [&] {
    ASSERT_TRUE(fs.CreateDir("wal").ok());
    auto log = *wal::Wal::Open(fs, scheduler, "wal", WalOpts());
    auto endpoint = *bus.Listen("n0");
    auto leader = *Leader::Create(scheduler, *log, *endpoint, bus.max_message_bytes(),
                                  WalOpts().max_record_bytes, {"n1", "n2"}, LeaderOpts());
    leader->Start();
    auto appended = log->Append("x");
    ASSERT_TRUE(appended.ok());
    ASSERT_TRUE(appended->durable.Get().ok());
    scheduler.SleepFor(1'000 * kMs);
    EXPECT_EQ(leader->commit_sequence(), 0u);  // nobody else has it
    for (const PeerStatus& peer : leader->peers()) heartbeats += peer.counters.heartbeats_sent;
    EXPECT_GT(leader->stats().send_backpressure, 0u);
    leader->Stop();
    EXPECT_TRUE(log->Close().ok());
  });
  const sim::RunResult result = scheduler.Run();
  ASSERT_TRUE(result.ok()) << sim::OutcomeName(result.outcome) << ": " << result.detail;
  // One heartbeat attempt per interval and follower, about.
  EXPECT_LE(heartbeats, 2u * (1'000 / 20 + 2));
}

}  // namespace
}  // namespace faultline::replication
