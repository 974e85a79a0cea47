// scenarios/checkers/snapshot_atomicity_checker.cc — see
// snapshot_atomicity_checker.h.
#include "scenarios/checkers/snapshot_atomicity_checker.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace faultline::scenarios {
namespace {

uint64_t Fnv1a(uint64_t hash, std::string_view bytes) {
  for (char c : bytes) {
    hash ^= static_cast<uint8_t>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

uint64_t StateDigest::EntryHash(std::string_view key, std::string_view value) {
  // The key's length goes in too, so ("ab", "c") and ("a", "bc") differ.
  const uint64_t key_hash = Fnv1a(0xcbf29ce484222325ull ^ key.size(), key);
  return Mix(Fnv1a(Mix(key_hash), value) + value.size());
}

SnapshotAtomicityChecker::SnapshotAtomicityChecker(std::function<std::string()> faults_summary)
    : faults_summary_(std::move(faults_summary)), digests_{StateDigest().value()} {}

absl::Status SnapshotAtomicityChecker::Violation(std::string_view invariant,
                                                 std::string_view detail) const {
  return absl::InternalError(absl::StrCat(
      "snapshot atomicity violated (", absl::string_view(invariant.data(), invariant.size()),
      "): ", absl::string_view(detail.data(), detail.size()), "; last acknowledged ", last_acked_,
      ", last issued ", last_issued(), "; faults injected: ",
      faults_summary_ ? faults_summary_() : std::string()));
}

absl::Status SnapshotAtomicityChecker::Issue(uint64_t sequence, uint64_t digest_after) {
  if (sequence != last_issued() + 1) {
    return Violation("issue order", absl::StrCat("record ", sequence, " issued after ",
                                                 last_issued()));
  }
  digests_.push_back(digest_after);
  return absl::OkStatus();
}

absl::Status SnapshotAtomicityChecker::Acknowledge(uint64_t sequence) {
  if (sequence > last_issued()) {
    return Violation("no phantom", absl::StrCat("record ", sequence,
                                                " acknowledged but never issued"));
  }
  if (sequence > last_acked_) last_acked_ = sequence;
  return absl::OkStatus();
}

absl::Status SnapshotAtomicityChecker::CheckRecovered(uint64_t sequence, uint64_t digest) {
  if (sequence < last_acked_) {
    return Violation("durability", absl::StrCat("recovered the state after ", sequence,
                                                " records, but ", last_acked_,
                                                " were acknowledged"));
  }
  if (sequence > last_issued()) {
    return Violation("no phantom", absl::StrCat("recovered the state after ", sequence,
                                                " records, but only ", last_issued(),
                                                " were issued"));
  }
  if (digests_[sequence] != digest) {
    std::string equals = "a state the model never had";
    // Bounded by the records issued; runs only on a violation.
    for (size_t k = 0; k < digests_.size(); ++k) {
      if (digests_[k] == digest) {
        equals = absl::StrCat("the model's state after ", k, " records");
        break;
      }
    }
    return Violation("atomicity", absl::StrCat("the state recovered as the one after ", sequence,
                                               " records is ", equals));
  }
  digests_.resize(sequence + 1);
  last_acked_ = sequence;
  return absl::OkStatus();
}

absl::Status SnapshotAtomicityChecker::CheckRecoveryError(const absl::Status& error) const {
  if (older_state_kept_) {
    return Violation("fallback", absl::StrCat("recovery failed: ", error.ToString(),
                                              ", though an older snapshot and the log still "
                                              "hold every acknowledged record"));
  }
  for (const std::string& file : damaged_) {
    if (error.message().find(file) != absl::string_view::npos &&
        absl::IsDataLoss(error)) {
      return absl::OkStatus();
    }
  }
  return Violation("clean error", absl::StrCat("recovery failed: ", error.ToString(),
                                               damaged_.empty()
                                                   ? " (nothing was damaged on purpose)"
                                                   : " (naming none of the damaged files)"));
}

}  // namespace faultline::scenarios
