// scenarios/replication/repl_world.cc — see repl_scenarios.h. Written on the
// scenario kit: the world, the nodes, their disks and crashes and the
// network swarm come from scenarios/kit; this file is the workload (the
// leader's appenders), the incarnations of each replica, the nemesis and the
// calls into the replication checker.
#include <algorithm>
#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/replication/follower.h"
#include "core/replication/leader.h"
#include "core/runtime/spawn.h"
#include "core/wal/wal.h"
#include "scenarios/checkers/replication_checker.h"
#include "scenarios/kit/disk_swarm.h"
#include "scenarios/kit/network_swarm.h"
#include "scenarios/kit/node.h"
#include "scenarios/kit/world.h"
#include "scenarios/replication/repl_profile.h"
#include "scenarios/replication/repl_scenarios.h"
#include "sim/disk/sim_file_system.h"
#include "sim/network/sim_network.h"

namespace faultline::scenarios {
namespace {

using replication::Follower;
using replication::Leader;

constexpr int kNodes = 3;  // replica 0 leads
constexpr uint64_t kRecords = 64;
constexpr int kAppenders = 4;
constexpr int64_t kMicrosecondNs = 1'000;
constexpr int64_t kMillisecondNs = 1'000'000;
constexpr int64_t kAppendDeadlineNs = 2'000 * kMillisecondNs;
constexpr int64_t kLivenessBoundNs = 10'000 * kMillisecondNs;  // after the heal
constexpr int64_t kPollNs = 10 * kMillisecondNs;
constexpr int kMaxOpenAttempts = 50;
constexpr uint64_t kMaxIdlePolls = 1'000'000;  // per incarnation; the run ends first
constexpr char kWalDir[] = "wal";

std::string Name(int replica) { return absl::StrCat("n", replica + 1); }

wal::WalOptions WalOpts() {
  wal::WalOptions options;
  options.segment_size_bytes = 8 << 10;
  options.max_record_bytes = 512;
  options.max_queued_bytes = 64 << 10;
  return options;
}

replication::LeaderOptions LeaderOpts() {
  replication::LeaderOptions options;
  options.max_batch_records = 8;
  options.max_batch_bytes = 2 << 10;
  options.flow.max_inflight_batches = 4;
  return options;
}

// What one replica's live incarnation exposes to the checkers and the
// nemesis; cleared when it stops or crashes.
struct Live {
  wal::Wal* wal = nullptr;
  Leader* leader = nullptr;
  Follower* follower = nullptr;
};

class ReplWorld {
 public:
  ReplWorld(ReplProfile profile, const ScenarioOptions& options, const ReplHooks& hooks)
      : profile_(DescribeProfile(profile)),
        hooks_(hooks),
        world_(options),
        network_(world_.scheduler()),
        swarm_(kit::DrawDiskSwarm(world_.prng(sim::Stream::kSwarm))),
        checker_({Name(0), Name(1), Name(2)}) {
    std::vector<sim::NodeId> ids;
    for (int i = 0; i < kNodes; ++i) {
      disks_.push_back(std::make_unique<sim::disk::SimDisk>(world_.scheduler(), swarm_.disk, swarm_.plan));
      nodes_.push_back(std::make_unique<kit::Node>(world_, Name(i)));
      kit::Node& node = *nodes_.back();
      node.AttachDisk(*disks_.back(), swarm_.tear_last_write_ppm);
      node.AttachNetwork(network_);
      node.SetMain([this, i](kit::Life) { i == 0 ? LeaderMain() : FollowerMain(i); });
      node.SetBeforeCrash([this, i] { Retire(i); });
      world_.coverage().WatchDisk(*disks_.back());
      ids.push_back(node.id());
    }
    sim::Prng& swarm = world_.prng(sim::Stream::kSwarm);
    network_.plan() = kit::DrawNetworkSwarm(swarm, ids, profile_.fault_horizon_ns);
    ShapeNetworkPlan(profile_, swarm, ids, network_.plan());
    salt_ = world_.prng(sim::Stream::kWorkload).NextU64();
    world_.coverage().WatchNetwork(network_);
  }

  ScenarioResult Run() {
    for (auto& node : nodes_) node->Start();
    world_.StartNemesis([this] { Nemesis(); });
    return world_.Run();
  }

 private:
  void LeaderMain();
  void FollowerMain(int i);
  void Appender(Leader& leader);
  std::unique_ptr<wal::Wal> OpenWal(int i);
  std::unique_ptr<io::Endpoint> Listen(int i);
  // Ends the live incarnation's bookkeeping: last durable claim, reject
  // counts. Before a crash (the objects still exist) or after Stop.
  void Retire(int i);
  void ObserveClaims();
  // A checker's verdict on an event too frequent to trace when it passes.
  bool Verdict(const absl::Status& status) {
    if (status.ok()) return true;
    world_.Fail(std::string(status.message()));
    return false;
  }
  void Idle(int i);
  void Shutdown(int i, wal::Wal& wal);
  void Nemesis();
  void CrashRounds();
  // Why the followers do not hold `target` yet, or empty once they do.
  std::string FirstStall(uint64_t target);
  std::string Payload(uint64_t index) const;

  const ProfileSpec profile_;
  const ReplHooks hooks_;
  kit::World world_;
  sim::net::SimNetwork network_;
  kit::DiskSwarm swarm_;
  std::vector<std::unique_ptr<sim::disk::SimDisk>> disks_;
  std::vector<std::unique_ptr<kit::Node>> nodes_;
  checkers::ReplicationChecker checker_;
  std::array<Live, kNodes> live_{};
  std::array<std::vector<std::string>, kNodes> final_logs_;
  uint64_t salt_ = 0;
  uint64_t next_record_ = 0;
  bool workload_done_ = false;
  bool stop_ = false;
  uint64_t rejected_ = 0;  // frames the replicas' codecs refused, every incarnation
};

std::string ReplWorld::Payload(uint64_t index) const {
  const size_t length = 1 + (index * 37 + salt_ % 97) % 200;
  std::string payload(length, '\0');
  for (size_t i = 0; i < length; ++i) {
    payload[i] = static_cast<char>(salt_ + index * 131 + i * 7);
  }
  return payload;
}

std::unique_ptr<wal::Wal> ReplWorld::OpenWal(int i) {
  kit::Node& node = *nodes_[i];
  absl::Status last;
  // Bounded: a reopen may be refused while a dead incarnation's flusher
  // still holds the directory.
  for (int attempt = 0; attempt < kMaxOpenAttempts && !world_.over(); ++attempt) {
    auto opened = wal::Wal::Open(node.FileSystem(), world_.scheduler(), kWalDir, WalOpts());
    if (opened.ok()) {
      if (!Verdict(checker_.OnRecovered(i, (*opened)->durable_sequence()))) return nullptr;
      return std::move(*opened);
    }
    last = opened.status();
    world_.scheduler().SleepFor(100 * kMicrosecondNs);
  }
  if (!world_.over()) world_.Fail(absl::StrCat(Name(i), ": the WAL did not open: ", last.ToString()));
  return nullptr;
}

std::unique_ptr<io::Endpoint> ReplWorld::Listen(int i) {
  auto endpoint = nodes_[i]->Network().Listen(Name(i));
  if (!endpoint.ok()) {
    world_.Fail(absl::StrCat(Name(i), ": listen failed: ", endpoint.status().ToString()));
    return nullptr;
  }
  if (!hooks_.wrap_endpoint) return std::move(*endpoint);
  std::function<uint64_t()> appended = [this, i] {
    return live_[i].follower != nullptr ? live_[i].follower->appended_sequence() : 0;
  };
  return hooks_.wrap_endpoint(i, std::move(*endpoint), std::move(appended));
}

void ReplWorld::Retire(int i) {
  Live& live = live_[i];
  if (live.wal != nullptr) checker_.OnDurableClaim(i, live.wal->durable_sequence());
  if (live.leader != nullptr) rejected_ += live.leader->stats().rejects.total();
  if (live.follower != nullptr) rejected_ += live.follower->stats().rejects.total();
  live = Live{};
}

void ReplWorld::ObserveClaims() {
  for (int i = 0; i < kNodes; ++i) {
    if (live_[i].wal != nullptr) checker_.OnDurableClaim(i, live_[i].wal->durable_sequence());
  }
}

void ReplWorld::Appender(Leader& leader) {
  while (!world_.over() && next_record_ < kRecords) {
    const uint64_t index = next_record_++;
    const std::string payload = Payload(index);
    auto committed =
        leader.Append(payload, runtime::DeadlineAfter(world_.scheduler().NowNs(), kAppendDeadlineNs));
    if (!committed.ok()) {
      world_.coverage().Count("append_not_committed_in_time");
      continue;
    }
    ObserveClaims();
    if (!Verdict(checker_.OnCommitted(*committed, payload))) return;
  }
}

void ReplWorld::Idle(int i) {
  for (uint64_t poll = 0; poll < kMaxIdlePolls && !stop_ && !world_.over(); ++poll) {
    world_.scheduler().SleepFor(kPollNs);
    const Live& live = live_[i];
    if (live.follower != nullptr && !live.follower->health().ok()) {
      world_.Fail(absl::StrCat(Name(i), ": the follower stopped: ", live.follower->health().ToString()));
    }
  }
}

void ReplWorld::Shutdown(int i, wal::Wal& wal) {
  Retire(i);
  std::vector<std::string>& log = final_logs_[i];
  log.clear();
  auto reader = wal.NewReader(1);
  for (uint64_t s = 1; reader.ok() && s <= wal.durable_sequence(); ++s) {
    auto next = (*reader)->Next();
    if (!next.ok() || !next->has_value()) break;
    log.push_back(std::move((*next)->payload));
  }
  (void)wal.Close();
  nodes_[i]->Finish();
}

void ReplWorld::LeaderMain() {
  std::unique_ptr<wal::Wal> log = OpenWal(0);
  if (log == nullptr) return;
  std::unique_ptr<io::Endpoint> endpoint = Listen(0);
  if (endpoint == nullptr) return;
  auto leader = Leader::Create(world_.scheduler(), *log, *endpoint, network_.max_message_bytes(),
                               WalOpts().max_record_bytes, {Name(1), Name(2)}, LeaderOpts());
  if (!Verdict(leader.status())) return;
  (*leader)->Start();
  live_[0] = Live{.wal = log.get(), .leader = leader->get()};
  std::vector<runtime::JoinHandle> appenders;
  for (int a = 0; a < kAppenders; ++a) {
    appenders.push_back(runtime::Spawn(world_.scheduler(), "appender", [&] { Appender(**leader); }));
  }
  for (auto& appender : appenders) appender.Join();
  if (next_record_ >= kRecords) workload_done_ = true;
  Idle(0);
  (*leader)->Stop();
  Shutdown(0, *log);
}

void ReplWorld::FollowerMain(int i) {
  std::unique_ptr<wal::Wal> log = OpenWal(i);
  if (log == nullptr) return;
  std::unique_ptr<io::Endpoint> endpoint = Listen(i);
  if (endpoint == nullptr) return;
  replication::FollowerOptions options;
  options.on_append = [this, i](uint64_t sequence, std::string_view payload) {
    Verdict(checker_.OnApply(i, sequence, payload));
  };
  auto follower = Follower::Create(world_.scheduler(), *log, *endpoint, Name(0), std::move(options));
  if (!Verdict(follower.status())) return;
  live_[i] = Live{.wal = log.get(), .follower = follower->get()};
  (*follower)->Start();
  Idle(i);
  (*follower)->Stop();
  Shutdown(i, *log);
}

std::string ReplWorld::FirstStall(uint64_t target) {
  for (int i = 0; i < kNodes; ++i) {
    if (live_[i].wal == nullptr) return absl::StrCat(Name(i), " is not running");
  }
  // The followers first: what they wait for is what holds the commit back.
  for (int i = 1; i < kNodes; ++i) {
    const uint64_t held = live_[i].follower->durable_sequence();
    if (held < target) {
      return absl::StrCat(Name(i), " waits for sequence ", held + 1, " (holds through ", held,
                          ", target ", target, ")");
    }
  }
  const uint64_t committed = live_[0].leader->commit_sequence();
  if (committed < target) {
    return absl::StrCat(Name(0), " waits to commit sequence ", committed + 1, " (target ", target,
                        ")");
  }
  return "";
}

void ReplWorld::CrashRounds() {
  sim::Scheduler& scheduler = world_.scheduler();
  sim::Prng& crash = world_.prng(sim::Stream::kCrash);
  const uint64_t rounds = crash.Below(static_cast<uint64_t>(profile_.max_crashes) + 1);
  const int64_t gap_ns = profile_.fault_horizon_ns / std::max(1, profile_.max_crashes);
  for (uint64_t round = 0; round < rounds && !world_.over(); ++round) {
    scheduler.SleepFor(crash.Between(1, gap_ns));
    const int victim = crash.ChancePpm(profile_.leader_crash_ppm) ? 0 : 1 + static_cast<int>(crash.Below(2));
    const bool power_loss = crash.Chance(1, 2);
    kit::Node& node = *nodes_[victim];
    if (!node.CrashNow("nemesis", victim == 0 ? "crash_leader" : "crash_follower")) continue;
    node.SettleDisk(power_loss ? sim::disk::CrashKind::kPowerLoss : sim::disk::CrashKind::kProcess);
    world_.coverage().Count(power_loss ? "crash_power_loss" : "crash_process");
    scheduler.SleepFor(crash.Between(100 * kMicrosecondNs, 5 * kMillisecondNs));
    if (!power_loss && crash.Chance(1, 4)) node.PowerLoss();
    node.Restart(kit::Life::kWork);
  }
}

void ReplWorld::Nemesis() {
  sim::Scheduler& scheduler = world_.scheduler();
  CrashRounds();
  if (scheduler.NowNs() < profile_.fault_horizon_ns) scheduler.SleepUntil(profile_.fault_horizon_ns);
  kit::StopNetworkFaults(network_);
  const int64_t healed_ns = scheduler.NowNs();
  // Liveness: the workload ends, then every follower holds everything the
  // leader has durable, and the leader has committed it.
  uint64_t target = 0;
  for (std::string stall = "no replica observed yet"; !stall.empty();) {
    if (world_.over()) return;
    if (scheduler.NowNs() - healed_ns >= kLivenessBoundNs) {
      world_.Fail(absl::StrCat("liveness: ", stall, " ", kLivenessBoundNs / kMillisecondNs,
                               " ms after the heal"));
      return;
    }
    scheduler.SleepFor(kPollNs);
    target = std::max(target, checker_.committed_through());
    if (live_[0].wal != nullptr) target = std::max(target, live_[0].wal->durable_sequence());
    stall = FirstStall(target);
    if (stall.empty() && !workload_done_) {
      stall = absl::StrCat("the leader's appenders have not finished (", next_record_, " of ",
                           kRecords, " records begun)");
    }
  }
  world_.Check(absl::OkStatus(), "every replica holds everything committed after the heal",
               {"target", target}, {"healed_ns", static_cast<uint64_t>(healed_ns)});
  stop_ = true;
  for (auto& node : nodes_) node->WaitForCrashOrFinish();
  if (world_.over()) return;
  const uint64_t corrupted = network_.stats().delivered_corrupt;
  world_.Check(corrupted == rejected_
                   ? absl::OkStatus()
                   : absl::InternalError(absl::StrCat(corrupted, " corrupted frames delivered, ",
                                                      rejected_, " rejected by the codec")),
               "every corrupted frame rejected", {"corrupted", corrupted}, {"rejected", rejected_});
  std::vector<std::vector<std::string>> logs(final_logs_.begin(), final_logs_.end());
  world_.Check(checker_.CheckFinalLogs(logs), "logs equal and committed on every replica",
               {"committed", checker_.committed_through()}, {"applies", checker_.applies()});
  world_.End("every replica holds everything committed");
}

}  // namespace

ScenarioResult RunReplication(ReplProfile profile, const ScenarioOptions& options,
                              const ReplHooks& hooks) {
  // The world is large: keep it off the caller's (possibly fiber) stack.
  auto world = std::make_unique<ReplWorld>(profile, options, hooks);
  return world->Run();
}

}  // namespace faultline::scenarios
