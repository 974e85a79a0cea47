// tests/core/replication/replication_tcp_test.cc — end to end in the real
// world: one leader and two followers on loopback TCP, each with its own
// WAL on real files, records streamed by concurrent appenders while a
// follower and then the leader restart. Checks that every follower applied
// gap-free (each entry handed to its WAL is the next sequence, across
// restarts), that every entry committed is on both followers, and that the
// followers' WALs are byte-equal to the leader's.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/posix/event_loop.h"
#include "core/posix/posix_file_system.h"
#include "core/posix/tcp_network.h"
#include "core/replication/follower.h"
#include "core/replication/leader.h"
#include "core/runtime/spawn.h"
#include "core/wal/wal.h"
#include "spdlog/spdlog.h"
#include "tests/core/posix/posix_test_util.h"
#include "tests/core/posix/tcp_test_util.h"

namespace faultline::replication {
namespace {

using posix::testing::TempDir;

constexpr int kAppenders = 8;
constexpr int kRecordsPerPhase = 400;  // per phase, over all appenders
constexpr int64_t kWaitNs = 20 * io::kNanosPerSecond;

wal::WalOptions WalOpts() {
  wal::WalOptions options;
  options.segment_size_bytes = 64 << 10;  // several segments per run
  options.max_record_bytes = 4096;
  return options;
}

std::string Payload(int phase, int appender, int i) {
  // Sizes vary from a few bytes to a few KiB; bytes vary with the position.
  std::string payload = absl::StrCat("p", phase, "-a", appender, "-r", i, ":");
  payload.append(static_cast<size_t>((i * 131 + appender * 17) % 3000), static_cast<char>(i));
  return payload;
}

// One node's state that outlives its incarnations within the test.
struct Replica {
  std::string dir;
  std::unique_ptr<io::Endpoint> endpoint;
  std::unique_ptr<wal::Wal> wal;
  std::unique_ptr<Follower> follower;
  uint64_t next_apply = 0;  // the sequence the next on_append must carry
  bool gap_seen = false;
};

std::vector<wal::Record> ReadLog(wal::Wal& log) {
  std::vector<wal::Record> records;
  auto reader = log.NewReader(1);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return records;
  for (uint64_t i = 0; i <= log.durable_sequence(); ++i) {
    auto next = (*reader)->Next();
    EXPECT_TRUE(next.ok()) << next.status();
    if (!next.ok() || !next->has_value()) break;
    records.push_back(std::move(**next));
  }
  return records;
}

class ReplicationTcpTest : public ::testing::Test {
 protected:
  ReplicationTcpTest() : network_(loop_, posix::testing::TestOptions()) {
    spdlog::set_level(spdlog::level::warn);
    auto fs = posix::PosixFileSystem::Open(loop_, temp_.path());
    EXPECT_TRUE(fs.ok()) << fs.status();
    fs_ = std::move(*fs);
  }

  void OpenWal(const std::string& dir, std::unique_ptr<wal::Wal>& out) {
    auto opened = wal::Wal::Open(*fs_, loop_, dir, WalOpts());
    ASSERT_TRUE(opened.ok()) << opened.status();
    out = std::move(*opened);
  }

  void StartFollower(Replica& r) {
    OpenWal(r.dir, r.wal);
    r.next_apply = r.wal->durable_sequence() + 1;
    FollowerOptions options;
    options.on_append = [&r](uint64_t sequence, std::string_view) {
      if (sequence != r.next_apply) r.gap_seen = true;
      r.next_apply = sequence + 1;
    };
    auto follower = Follower::Create(loop_, *r.wal, *r.endpoint, leader_address_, options);
    ASSERT_TRUE(follower.ok()) << follower.status();
    r.follower = std::move(*follower);
    r.follower->Start();
  }

  void StopFollower(Replica& r) {
    r.follower->Stop();
    EXPECT_TRUE(r.follower->health().ok()) << r.follower->health();
    r.follower.reset();
    EXPECT_TRUE(r.wal->Close().ok());
    r.wal.reset();
  }

  void StartLeader() {
    OpenWal("leader", leader_wal_);
    auto leader = Leader::Create(loop_, *leader_wal_, *leader_endpoint_,
                                 network_.max_message_bytes(), WalOpts().max_record_bytes,
                                 {replicas_[0].endpoint->address(),
                                  replicas_[1].endpoint->address()},
                                 LeaderOptions{});
    ASSERT_TRUE(leader.ok()) << leader.status();
    leader_ = std::move(*leader);
    leader_->Start();
  }

  void StopLeader() {
    leader_->Stop();
    leader_.reset();
    EXPECT_TRUE(leader_wal_->Close().ok());
    leader_wal_.reset();
  }

  // kRecordsPerPhase records from kAppenders fibers, each waiting for its
  // records to commit; `meanwhile` runs while they do.
  void StreamPhase(int phase, const std::function<void()>& meanwhile) {
    std::vector<runtime::JoinHandle> appenders;
    for (int a = 0; a < kAppenders; ++a) {
      appenders.push_back(runtime::Spawn(loop_, "appender", [this, phase, a] {
        for (int i = 0; i < kRecordsPerPhase / kAppenders; ++i) {
          auto committed = leader_->Append(Payload(phase, a, i),
                                           runtime::DeadlineAfter(loop_.NowNs(), kWaitNs));
          ASSERT_TRUE(committed.ok()) << committed.status();
        }
      }));
    }
    meanwhile();
    for (auto& appender : appenders) appender.Join();
  }

  bool FollowersHold(uint64_t sequence) {
    return posix::testing::WaitFor(
        loop_,
        [&] {
          return replicas_[0].follower->committed_sequence() >= sequence &&
                 replicas_[1].follower->committed_sequence() >= sequence;
        },
        kWaitNs);
  }

  TempDir temp_;
  posix::EventLoop loop_;
  posix::TcpNetwork network_;
  std::unique_ptr<posix::PosixFileSystem> fs_;
  std::unique_ptr<io::Endpoint> leader_endpoint_;
  io::Address leader_address_;
  std::unique_ptr<wal::Wal> leader_wal_;
  std::unique_ptr<Leader> leader_;
  Replica replicas_[2];
};

TEST_F(ReplicationTcpTest, StreamsGapFreeAcrossFollowerAndLeaderRestarts) {
  posix::testing::RunInFiber(loop_, [&] {
    for (const char* dir : {"leader", "f1", "f2"}) ASSERT_TRUE(fs_->CreateDir(dir).ok());
    leader_endpoint_ = posix::testing::MustListen(network_);
    leader_address_ = leader_endpoint_->address();
    for (int i = 0; i < 2; ++i) {
      replicas_[i].dir = i == 0 ? "f1" : "f2";
      replicas_[i].endpoint = posix::testing::MustListen(network_);
      StartFollower(replicas_[i]);
    }
    StartLeader();

    // Phase 1, with follower 2 restarting in the middle of the stream.
    StreamPhase(1, [&] {
      loop_.SleepFor(20 * io::kNanosPerMilli);
      StopFollower(replicas_[1]);
      loop_.SleepFor(20 * io::kNanosPerMilli);
      StartFollower(replicas_[1]);
    });
    // Phase 2 after a leader restart: the new leader ships from its
    // recovered WAL and learns the followers' positions from their replies.
    StopLeader();
    StartLeader();
    StreamPhase(2, [] {});
    const uint64_t last = leader_wal_->durable_sequence();
    EXPECT_EQ(last, 2u * kRecordsPerPhase);
    EXPECT_GE(leader_->commit_sequence(), last);
    EXPECT_TRUE(FollowersHold(last));

    const std::vector<wal::Record> expected = ReadLog(*leader_wal_);
    ASSERT_EQ(expected.size(), last);
    for (Replica& r : replicas_) {
      EXPECT_FALSE(r.gap_seen) << r.dir;
      EXPECT_EQ(r.follower->stats().rejects.total(), 0u);
      const std::vector<wal::Record> got = ReadLog(*r.wal);
      ASSERT_EQ(got.size(), expected.size()) << r.dir;
      for (size_t i = 0; i < got.size(); ++i) {
        ASSERT_EQ(got[i].sequence, expected[i].sequence) << r.dir;
        ASSERT_EQ(got[i].payload, expected[i].payload) << r.dir << " at " << got[i].sequence;
      }
    }
    StopLeader();
    for (Replica& r : replicas_) StopFollower(r);
    leader_endpoint_.reset();
    for (Replica& r : replicas_) r.endpoint.reset();
  });
}

// Garbage sent to a follower by the leader's address is counted and never
// applied; the stream carries on.
TEST_F(ReplicationTcpTest, GarbageFromTheLeaderIsRejectedAndCounted) {
  posix::testing::RunInFiber(loop_, [&] {
    for (const char* dir : {"leader", "f1", "f2"}) ASSERT_TRUE(fs_->CreateDir(dir).ok());
    leader_endpoint_ = posix::testing::MustListen(network_);
    leader_address_ = leader_endpoint_->address();
    for (int i = 0; i < 2; ++i) {
      replicas_[i].dir = i == 0 ? "f1" : "f2";
      replicas_[i].endpoint = posix::testing::MustListen(network_);
      StartFollower(replicas_[i]);
    }
    // Before the leader runs, its endpoint sends frames no leader would.
    AppendMsg wrong_version;
    wrong_version.first_sequence = 1;
    wrong_version.entries = {"evil"};
    std::string frame = Encode(wrong_version, WireLimits{});
    frame[4] = 9;
    const io::Address f1 = replicas_[0].endpoint->address();
    ASSERT_TRUE(leader_endpoint_->Send(f1, frame).ok());
    ASSERT_TRUE(leader_endpoint_->Send(f1, "garbage").ok());
    ASSERT_TRUE(leader_endpoint_->Send(f1, frame.substr(0, frame.size() - 2)).ok());
    EXPECT_TRUE(posix::testing::WaitFor(
        loop_, [&] { return replicas_[0].follower->stats().rejects.total() == 3; }, kWaitNs));
    EXPECT_EQ(replicas_[0].follower->appended_sequence(), 0u);

    StartLeader();
    StreamPhase(1, [] {});
    EXPECT_TRUE(FollowersHold(kRecordsPerPhase));
    EXPECT_FALSE(replicas_[0].gap_seen);
    StopLeader();
    for (Replica& r : replicas_) StopFollower(r);
    leader_endpoint_.reset();
    for (Replica& r : replicas_) r.endpoint.reset();
  });
}

}  // namespace
}  // namespace faultline::replication
