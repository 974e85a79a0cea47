// scenarios/journal/sequenced_kv_machine.h — the journal scenarios' state
// machine: the shipped KV machine plus the sequence of the last record it
// applied, so that a record applied twice (or skipped) shows.
//
// Puts and deletes are idempotent: replaying a record a snapshot already
// covers leaves a key-value map as it was, so a state digest alone cannot
// tell a journal that replays from the wrong place. This machine keeps the
// last applied sequence in its state and its snapshots (an 8-byte
// little-endian prefix of the KV body) and refuses a record that does not
// follow it; the scenario checks it against the sequence the journal claims.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/journal/kv_state_machine.h"
#include "core/journal/state_machine.h"

namespace faultline::scenarios::journal_internal {

class SequencedKvMachine final : public journal::StateMachine {
 public:
  const std::map<std::string, std::string>& entries() const { return kv_.entries(); }
  // The sequence of the last record applied (restored from a snapshot, or
  // 0 for an empty machine).
  uint64_t last_sequence() const { return last_sequence_; }

  absl::Status Validate(std::string_view record) const override { return kv_.Validate(record); }
  // InvalidArgument unless `sequence` is last_sequence() + 1.
  absl::Status Apply(uint64_t sequence, std::string_view record) override;
  absl::Status WriteSnapshot(journal::SnapshotSink& sink) const override;
  void Clear() override;
  absl::Status RestoreChunk(std::string_view bytes) override;
  absl::Status FinishRestore() override;

 private:
  static constexpr size_t kSequenceBytes = 8;

  journal::KvStateMachine kv_;
  uint64_t last_sequence_ = 0;
  std::string prefix_;  // the sequence's bytes restored so far (< 8 until whole)
};

}  // namespace faultline::scenarios::journal_internal
