// tests/scenarios/wal/wal_payloads_test.cc — the adversarial payloads are
// what they claim: forged frames verify under the guessed salt seed (and
// only under it) or under the salt the author knows, the other kinds have
// their shape, and sizes stay within max_record_bytes.
#include "scenarios/wal/wal_payloads.h"

#include <gtest/gtest.h>

#include "core/wal/format.h"
#include "sim/scheduler/prng.h"

namespace faultline::scenarios {
namespace {

// Whether `payload` holds a frame that verifies under `salt`.
bool HoldsFrameSaltedWith(const std::string& payload, uint32_t salt) {
  for (size_t offset = 0; offset + wal::format::kFrameHeaderBytes <= payload.size(); ++offset) {
    const wal::format::DecodedFrame frame =
        wal::format::DecodeFrame(std::string_view(payload).substr(offset), salt);
    if (frame.problem == wal::format::FrameProblem::kNone) return true;
  }
  return false;
}

// Whether `payload` holds a frame that verifies in a segment starting at
// `segment_first` of a log salted with `salt_seed`.
bool HoldsVerifyingFrame(const std::string& payload, uint64_t salt_seed, uint64_t segment_first) {
  return HoldsFrameSaltedWith(payload, wal::format::SegmentSalt(salt_seed, segment_first));
}

TEST(WalPayloads, ForgedFramesVerifyOnlyUnderTheGuessedSaltSeed) {
  sim::Prng prng(7);
  const PayloadShape shape{.max_payload_bytes = 512, .max_record_bytes = 512,
                           .adversarial_one_in = 1};
  int forged = 0;
  for (int i = 0; i < 200; ++i) {
    const uint64_t next = 100 + i;
    const std::string payload = MakeWalPayload(prng, shape, next);
    ASSERT_LE(payload.size(), 512u);
    if (HoldsVerifyingFrame(payload, kGuessedSaltSeed, next - 3)) {
      ++forged;
      EXPECT_FALSE(HoldsVerifyingFrame(payload, 0x5eed, next - 3));
    }
  }
  EXPECT_GT(forged, 50);  // about half the adversarial payloads forge this log's frames
}

TEST(WalPayloads, AKnownSaltForgesWithItAndDrawsTheSame) {
  constexpr uint32_t kSalt = 0x5a17c0de;
  const PayloadShape shape{.max_payload_bytes = 512, .max_record_bytes = 512,
                           .adversarial_one_in = 1};
  sim::Prng guessing(11);
  sim::Prng knowing(11);
  int forged = 0;
  for (int i = 0; i < 200; ++i) {
    const uint64_t next = 100 + i;
    const std::string guessed = MakeWalPayload(guessing, shape, next);
    const std::string known = MakeWalPayload(knowing, shape, next, kSalt);
    ASSERT_EQ(guessed.size(), known.size());
    if (HoldsFrameSaltedWith(known, kSalt)) {
      ++forged;
      EXPECT_FALSE(HoldsFrameSaltedWith(guessed, kSalt));
    }
  }
  // The stream is where it would be without the salt: a run's draws do not
  // depend on what the author knows.
  EXPECT_EQ(guessing.NextU64(), knowing.NextU64());
  EXPECT_GT(forged, 50);
}

TEST(WalPayloads, MaxSizePayloadsHaveExactlyMaxRecordBytes) {
  sim::Prng prng(3);
  const PayloadShape shape{.max_payload_bytes = 16, .max_record_bytes = 300,
                           .max_size_one_in = 1};
  for (int i = 0; i < 20; ++i) EXPECT_EQ(MakeWalPayload(prng, shape, 1).size(), 300u);
}

}  // namespace
}  // namespace faultline::scenarios
