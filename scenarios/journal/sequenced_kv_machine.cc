// scenarios/journal/sequenced_kv_machine.cc — see sequenced_kv_machine.h.
#include "scenarios/journal/sequenced_kv_machine.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/journal/snapshot_format.h"

namespace faultline::scenarios::journal_internal {

absl::Status SequencedKvMachine::Apply(uint64_t sequence, std::string_view record) {
  if (sequence != last_sequence_ + 1) {
    return absl::InvalidArgumentError(absl::StrCat("record ", sequence, " applied after record ",
                                                   last_sequence_));
  }
  absl::Status status = kv_.Apply(sequence, record);
  if (status.ok()) last_sequence_ = sequence;
  return status;
}

absl::Status SequencedKvMachine::WriteSnapshot(journal::SnapshotSink& sink) const {
  char bytes[kSequenceBytes];
  journal::format::PutU64(bytes, last_sequence_);
  absl::Status status = sink.Write(std::string_view(bytes, sizeof(bytes)));
  if (!status.ok()) return status;
  return kv_.WriteSnapshot(sink);
}

void SequencedKvMachine::Clear() {
  kv_.Clear();
  last_sequence_ = 0;
  prefix_.clear();
}

absl::Status SequencedKvMachine::RestoreChunk(std::string_view bytes) {
  if (prefix_.size() < kSequenceBytes) {
    const size_t take = std::min(kSequenceBytes - prefix_.size(), bytes.size());
    prefix_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    if (prefix_.size() == kSequenceBytes) last_sequence_ = journal::format::GetU64(prefix_);
  }
  if (bytes.empty()) return absl::OkStatus();
  return kv_.RestoreChunk(bytes);
}

absl::Status SequencedKvMachine::FinishRestore() {
  if (prefix_.size() != kSequenceBytes) {
    return absl::DataLossError("snapshot ends inside its sequence prefix");
  }
  return kv_.FinishRestore();
}

}  // namespace faultline::scenarios::journal_internal
