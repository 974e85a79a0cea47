// scenarios/wal/wal_payloads.cc — see wal_payloads.h.
#include "scenarios/wal/wal_payloads.h"

#include <algorithm>
#include <limits>

#include "core/base/check.h"
#include "core/wal/format.h"

namespace faultline::scenarios {
namespace {

enum class Adversary : uint8_t { kOwnFrames, kForeignFrames, kZeros, kOnes, kCount };

// Random bytes from one 64-bit draw, spread over the payload: distinct
// across records (so a stale frame never matches a reissued sequence) at
// one draw per record.
void FillRandom(sim::Prng& workload, std::string& payload) {
  uint64_t x = workload.NextU64();
  for (size_t i = 0; i < payload.size(); ++i) {
    if (i % 8 == 0 && i > 0) x = x * 6364136223846793005ull + 1442695040888963407ull;
    payload[i] = static_cast<char>(x >> ((i % 8) * 8));
  }
}

// Frames packed back to back over the payload (after a random prefix), each
// claiming a sequence and watermark far ahead of `next_sequence`, so that
// recovery, scanning past a torn frame, would take any that verifies as
// proof of lost durable records. kOwnFrames salts frame k for a segment
// starting k records before the payload's own sequence (the attacker does
// not know where segments start, so it covers the likely ones) — unless it
// knows the newest segment's salt (`known_salt`), which it then uses for all.
void FillFrames(sim::Prng& workload, std::string& payload, uint64_t next_sequence,
                uint64_t salt_seed, std::optional<uint32_t> known_salt) {
  // Close ahead: recovery ignores a claimed sequence further ahead of the
  // expected one than the segment has bytes.
  const uint64_t claimed = next_sequence + 1 + workload.Below(4);
  const uint64_t far = std::min(claimed, std::numeric_limits<uint64_t>::max() / 2);
  const std::string inner = "x";
  std::string frames;
  // Bounded by the payload's size (every frame is at least 25 bytes).
  for (uint64_t k = 0; frames.size() + wal::format::FrameBytes(inner.size()) <= payload.size();
       ++k) {
    const uint64_t segment_first = next_sequence > k ? next_sequence - k : 1;
    const uint32_t salt = known_salt.has_value()
                              ? *known_salt
                              : wal::format::SegmentSalt(salt_seed, segment_first);
    wal::format::AppendFrame(&frames, far + k, far + k, inner, salt);
  }
  // Across the whole payload: whichever of its sectors a torn write keeps
  // while losing the record's own header or tail holds forged frames.
  FillRandom(workload, payload);
  std::copy(frames.begin(), frames.end(), payload.begin());
}

}  // namespace

std::string MakeWalPayload(sim::Prng& workload, const PayloadShape& shape,
                           uint64_t next_sequence, std::optional<uint32_t> known_salt) {
  FAULTLINE_CHECK(shape.max_payload_bytes >= 1 && shape.max_record_bytes >= 1);
  uint32_t size_bytes = 1 + static_cast<uint32_t>(workload.Below(shape.max_payload_bytes));
  if (shape.max_size_one_in > 0 && workload.Chance(1, shape.max_size_one_in)) {
    size_bytes = shape.max_record_bytes;
  }
  size_bytes = std::min(size_bytes, shape.max_record_bytes);
  std::string payload(size_bytes, '\0');
  if (shape.adversarial_one_in == 0 || !workload.Chance(1, shape.adversarial_one_in)) {
    FillRandom(workload, payload);
    return payload;
  }
  // Most of them forge this log's frames; the rest share the other kinds.
  const Adversary kind =
      workload.Chance(3, 4)
          ? Adversary::kOwnFrames
          : static_cast<Adversary>(1 + workload.Below(static_cast<uint64_t>(Adversary::kCount) - 1));
  switch (kind) {
    case Adversary::kOwnFrames:
      // As large as allowed: room for frames salted for the segments that
      // start up to that many records back, and a record that spans sectors.
      payload.resize(shape.max_record_bytes);
      FillFrames(workload, payload, next_sequence, kGuessedSaltSeed, known_salt);
      break;
    case Adversary::kForeignFrames:
      FillFrames(workload, payload, next_sequence, workload.NextU64(), std::nullopt);
      break;
    case Adversary::kZeros:
      break;
    case Adversary::kOnes:
      payload.assign(size_bytes, '\xff');
      break;
    case Adversary::kCount:
      FAULTLINE_CHECK(false);
  }
  return payload;
}

}  // namespace faultline::scenarios
