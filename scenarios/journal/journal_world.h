// scenarios/journal/journal_world.h — one run of a journal scenario
// (internal to scenarios/journal): the journal's node, its writer and
// checkpointer, and the snapshot-atomicity checker, on a kit::World with the
// crash-round nemesis. journal_scenarios.h describes the scenarios.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/journal/journal.h"
#include "core/journal/kv_state_machine.h"
#include "scenarios/journal/sequenced_kv_machine.h"
#include "core/runtime/event.h"
#include "scenarios/checkers/snapshot_atomicity_checker.h"
#include "scenarios/journal/journal_scenarios.h"
#include "scenarios/journal/journal_swarm.h"
#include "scenarios/kit/node.h"
#include "scenarios/kit/world.h"

namespace faultline::scenarios::journal_internal {

inline constexpr char kJournalDir[] = "j";
inline constexpr int64_t kMicrosecondNs = 1'000;
// Bounds (TigerBeetle style) on every loop of a run.
inline constexpr int kMaxRecoverAttempts = 24;       // while Recover keeps failing with I/O errors
inline constexpr int kMaxEpochsPerIncarnation = 8;   // in-process recoveries after fail-stops

class JournalWorld {
 public:
  JournalWorld(JournalScenarioKind kind, const ScenarioOptions& options,
               const JournalScenarioHooks& hooks);
  ScenarioResult Run();

 private:
  void NodeMain(kit::Life life);
  // Recovers the journal twice (the second must agree) and checks both;
  // on success journal_ and machine_ hold the second one. False when the
  // run is over (a violation, reported damage) or Recover kept failing.
  bool RecoverAndCheck(io::FileSystem& fs);
  // The writer and the checkpointer, until the writer is done or the
  // journal stopped.
  void RunEpoch();
  void Writer();
  void Checkpointer();
  // The verifying incarnation damages the newest durable snapshot on
  // purpose (journal_checkpoint_crash). False if there was none.
  // `wal_first`: the first record the WAL still holds, to tell the checker
  // whether an older state is kept.
  bool DamageNewestSnapshot(uint64_t wal_first);
  // Plants a damaged leftover tmp file (JournalSwarm::leftover_tmp).
  void PlantLeftoverTmp(io::FileSystem& fs);
  // The newest snapshot in the durable image: its path (empty if none).
  std::string NewestDurableSnapshot(std::string* bytes);

  // Before a crash: what the WAL claims durable counts as acknowledged, and
  // the checkpoint stage in flight is counted.
  void BeforeCrash();
  bool Verdict(const absl::Status& status, std::string_view what) {
    return world_.Check(status, what, {"acked", checker_.last_acked()},
                        {"issued", checker_.last_issued()});
  }
  // Makes the model the recovered state (the checker rebased to it).
  void AdoptModel(const std::map<std::string, std::string>& entries);

  const JournalScenarioKind kind_;
  const JournalScenarioHooks& hooks_;
  kit::World world_;
  const JournalSwarm swarm_;
  sim::disk::SimDisk disk_;
  kit::Node node_;
  SnapshotAtomicityChecker checker_;
  runtime::Event epoch_event_;   // the writer finished
  bool writer_done_ = false;
  // The model: the state after every record issued so far.
  std::map<std::string, std::string> model_;
  StateDigest model_digest_;
  // The live incarnation's machine and journal (destroyed, in that order of
  // declaration reversed, before the disk and the node).
  std::unique_ptr<SequencedKvMachine> machine_;
  std::unique_ptr<journal::Journal> journal_;
};

}  // namespace faultline::scenarios::journal_internal
