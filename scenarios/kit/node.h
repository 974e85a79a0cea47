// scenarios/kit/node.h — one simulated node of a World: its incarnations,
// its crashes, its disk, and the signal its nemesis waits on.
//
// Life cycle. SetMain() gives the body every incarnation runs; Start()
// begins the first, Restart() a new one after a crash. An incarnation runs
// for work (kWork) or, once faults stop, to verify what survived (kVerify).
// When its bounded work is over it calls Finish(); a verifying incarnation
// whose checks passed calls NoteVerified() first. The nemesis waits on the
// node with WaitForCrashOrFinish().
//
// Crashes. CrashNow() crashes the node from another fiber (the nemesis);
// ArmCrashAtOp() makes it crash from inside its Nth I/O operation of a kind
// on its simulated disk (crash_at_op.h; the disk settles that crash itself).
// Either way the before-crash hook runs first (a scenario takes its last
// observations there, e.g. what the code under test claimed durable), and
// the crash is counted in the world's coverage as "crash" plus its kind.
// After a crash, SettleDisk() lets the disk decide which unsynced state
// survived (once per incarnation; a no-op when the arm settled it): a power
// loss, or a process crash that keeps the page cache. PowerLoss() cuts the
// power while the node is down (after a process crash).
//
// A node without a disk (AttachDisk not called) has no FileSystem() and
// SettleDisk() does nothing.
//
// The network. AttachNetwork() gives the node its io::Network (Network()):
// every crash of the node is then settled on the simulated network at the
// crash's virtual time (its endpoints die, its messages in flight and
// queued for it vanish); each incarnation listens afresh.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/io/file_system.h"
#include "core/runtime/event.h"
#include "scenarios/kit/crash_at_op.h"
#include "scenarios/kit/world.h"
#include "sim/disk/sim_file_system.h"
#include "sim/network/sim_network.h"

namespace faultline::scenarios::kit {

// What an incarnation is for.
enum class Life : uint8_t { kWork, kVerify };

class Node {
 public:
  Node(World& world, std::string name);
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  sim::NodeId id() const { return id_; }
  bool alive() const { return world_.scheduler().IsAlive(id_); }

  // --- incarnations ------------------------------------------------------
  void SetMain(std::function<void(Life)> main) { main_ = std::move(main); }
  // Starts the first incarnation (a kWork fiber called "main").
  void Start();
  // Begins a new incarnation of the crashed node: a fiber called "main"
  // (kWork) or "verify" (kVerify).
  void Restart(Life life);
  // The incarnation's work is over (done, or gave up): wakes the nemesis.
  void Finish();
  bool finished() const { return finished_; }
  // A verifying incarnation checked what survived, and it passed.
  void NoteVerified() { verified_ = true; }
  bool verified() const { return verified_; }

  // --- the nemesis's side --------------------------------------------------
  // Parks the calling fiber until the node is dead, its incarnation
  // finished, or the run is over.
  void WaitForCrashOrFinish();
  // Set when the node crashes at an armed operation, finishes, or ends a
  // recovery whose armed crash did not fire. Reset it before waiting.
  runtime::Event& wake() { return wake_; }

  // --- crashes ---------------------------------------------------------------
  // Runs just before every crash of this node (see the file comment).
  void SetBeforeCrash(std::function<void()> hook) { before_crash_ = std::move(hook); }
  // Disarms any armed crash, then crashes the node now unless it is already
  // dead (returns whether it crashed). `label` names the crash in the trace;
  // `coverage_kind`, when not empty, is counted besides "crash".
  bool CrashNow(std::string_view label, std::string_view coverage_kind);
  // Crashes the node at an I/O operation to come (crash_at_op.h). A power
  // loss there tears the newest pending write as SettleDisk would (drawn now).
  void ArmCrashAtOp(OpCrash crash);
  bool armed_for_recovery() const { return crash_at_op_.armed_for_recovery(); }
  bool armed() const { return crash_at_op_.armed(); }

  // While a RecoveryScope lives, the node is recovering: only crashes armed
  // for a recovery count its operations. When it ends, a crash armed for the
  // recovery that did not fire is disarmed and the nemesis woken.
  class RecoveryScope {
   public:
    explicit RecoveryScope(Node& node);
    ~RecoveryScope();
    RecoveryScope(const RecoveryScope&) = delete;
    RecoveryScope& operator=(const RecoveryScope&) = delete;

   private:
    Node& node_;
  };

  // --- the disk ----------------------------------------------------------------
  // Gives the node its file system on `disk` (which must outlive the node).
  // At each power loss, the newest pending write is torn with probability
  // tear_last_write_ppm (drawn from Stream::kCrash).
  void AttachDisk(sim::disk::SimDisk& disk, uint32_t tear_last_write_ppm);
  // The node's file system as the code under test must see it: `wrap` (a
  // test seam, may be empty) over the disk. Lives until the node is destroyed.
  io::FileSystem& FileSystem(
      const std::function<std::unique_ptr<io::FileSystem>(io::FileSystem&)>& wrap = {});
  // The disk resolves this incarnation's crash as `kind`. Idempotent per
  // incarnation (the first settle wins, an arm's included).
  void SettleDisk(CrashKind kind = CrashKind::kPowerLoss);
  // The machine loses power while the node is down: what a process crash
  // left pending is resolved now.
  void PowerLoss();

  // --- the network ---------------------------------------------------------------
  // Gives the node its network (which must outlive the node).
  void AttachNetwork(sim::net::SimNetwork& network) { network_ = &network; }
  // The network as the code under test sees it; AttachNetwork first.
  io::Network& Network();

 private:
  // What every crash does first: the hook, coverage, waking the nemesis.
  void BeforeCrash(std::string_view coverage_kind);
  void Crash(std::string_view label, std::string_view coverage_kind);
  sim::disk::CrashOptions DrawPowerLossOptions();

  World& world_;
  const sim::NodeId id_;
  std::function<void(Life)> main_;
  std::function<void()> before_crash_;
  runtime::Event wake_;
  CrashAtOp crash_at_op_;
  bool finished_ = false;
  bool verified_ = false;
  sim::disk::SimDisk* disk_ = nullptr;
  sim::net::SimNetwork* network_ = nullptr;
  uint32_t tear_last_write_ppm_ = 0;
  std::vector<std::unique_ptr<io::FileSystem>> file_systems_;  // live until the node is destroyed
};

}  // namespace faultline::scenarios::kit
