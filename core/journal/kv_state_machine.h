// core/journal/kv_state_machine.h — a small ordered key-value map as a
// journal state machine, for users and tests to reuse.
//
// Records (EncodePut / EncodeDelete build them; little-endian):
//   put:    0x01, key_bytes (u32), key, value (the rest, may be empty)
//   delete: 0x02, key_bytes (u32), key
// Keys are 1..kMaxKeyBytes bytes, values at most kMaxValueBytes. Deleting a
// missing key is a no-op.
//
// Snapshot body: entry_count (u64), then per entry in key order
// key_bytes (u32), value_bytes (u32), key, value. Restore refuses anything
// else (bad lengths, keys out of order or repeated, a short or long body),
// holding at most one entry's bytes plus one chunk while it parses.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "core/journal/state_machine.h"

namespace faultline::journal {

class KvStateMachine final : public StateMachine {
 public:
  static constexpr uint32_t kMaxKeyBytes = 4096;
  static constexpr uint32_t kMaxValueBytes = 1u << 20;

  static std::string EncodePut(std::string_view key, std::string_view value);
  static std::string EncodeDelete(std::string_view key);

  absl::Status Validate(std::string_view record) const override;
  absl::Status Apply(uint64_t sequence, std::string_view record) override;
  absl::Status WriteSnapshot(SnapshotSink& sink) const override;
  void Clear() override;
  absl::Status RestoreChunk(std::string_view bytes) override;
  absl::Status FinishRestore() override;

  // The state, in key order.
  const std::map<std::string, std::string>& entries() const { return entries_; }

 private:
  // Parses complete items of `buffered`; `used` is how many bytes they took.
  absl::Status Parse(std::string_view buffered, size_t* used);

  std::map<std::string, std::string> entries_;
  // Restore: bytes received but not parsed yet (at most one entry + a chunk).
  std::string partial_;
  bool have_count_ = false;
  uint64_t entries_left_ = 0;
};

}  // namespace faultline::journal
