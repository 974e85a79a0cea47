// Tests for core/wal/format: segment names, headers and frames encode and
// decode round trip, and every kind of damage is recognised as such.
#include "core/wal/format.h"

#include "core/base/crc32c.h"

#include <string>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

namespace faultline::wal::format {
namespace {

TEST(SegmentName, RoundTripsAndSortsNumerically) {
  EXPECT_EQ(SegmentName(1), "00000000000000000001.wal");
  EXPECT_EQ(ParseSegmentName(SegmentName(1)), 1u);
  EXPECT_EQ(ParseSegmentName(SegmentName(UINT64_MAX)), UINT64_MAX);
  EXPECT_LT(SegmentName(9), SegmentName(10));
}

TEST(SegmentName, RejectsForeignNames) {
  for (const char* name : {"LOCK", "00000000000000000001.log", "0000000000000000001.wal",
                           "0000000000000000000a.wal", "99999999999999999999.wal",
                           "00000000000000000001.wal.tmp", ""}) {
    EXPECT_FALSE(ParseSegmentName(name).has_value()) << name;
  }
}

TEST(SegmentHeader, RoundTrips) {
  const std::string header = EncodeSegmentHeader(42, 0xA1B2C3D4u);
  ASSERT_EQ(header.size(), kSegmentHeaderBytes);
  const DecodedHeader decoded = DecodeSegmentHeader(header);
  EXPECT_EQ(decoded.problem, HeaderProblem::kNone);
  EXPECT_EQ(decoded.header.first_sequence, 42u);
  EXPECT_EQ(decoded.header.version, kFormatVersion);
  EXPECT_EQ(decoded.header.salt, 0xA1B2C3D4u);
}

TEST(SegmentHeader, RecognisesDamage) {
  const std::string good = EncodeSegmentHeader(7, 99);
  EXPECT_EQ(DecodeSegmentHeader(good.substr(0, 31)).problem, HeaderProblem::kTooShort);
  EXPECT_EQ(DecodeSegmentHeader(std::string(32, '\0')).problem, HeaderProblem::kBadMagic);
  std::string flipped = good;
  flipped[17] ^= 0x01;  // first_sequence
  EXPECT_EQ(DecodeSegmentHeader(flipped).problem, HeaderProblem::kBadChecksum);
  std::string future = good;
  future[8] = 3;  // version
  const DecodedHeader decoded = DecodeSegmentHeader(future);
  EXPECT_EQ(decoded.problem, HeaderProblem::kFutureVersion);
  EXPECT_EQ(decoded.header.version, 3u);
  std::string old = good;
  old[8] = 1;  // version 1 had no salt: its frames could be forged
  EXPECT_EQ(DecodeSegmentHeader(old).problem, HeaderProblem::kOldVersion);
}

TEST(SegmentSalt, DiffersBySeedAndBySegment) {
  EXPECT_NE(SegmentSalt(1, 1), SegmentSalt(2, 1));
  EXPECT_NE(SegmentSalt(1, 1), SegmentSalt(1, 2));
  EXPECT_EQ(SegmentSalt(7, 100), SegmentSalt(7, 100));  // deterministic
}

// A frame verifies only under the salt of the segment it was written for:
// a frame copied from another log or segment (or forged by a payload author
// who does not know the salt) is a bad checksum.
RC_GTEST_PROP(Frame, OnlyTheWritersSaltVerifies, (uint32_t salt, uint32_t other)) {
  RC_PRE(salt != other);
  const std::string payload = *rc::gen::nonEmpty<std::string>();
  std::string encoded;
  AppendFrame(&encoded, 3, 2, payload, salt);
  RC_ASSERT(DecodeFrame(encoded, salt).problem == FrameProblem::kNone);
  RC_ASSERT(DecodeFrame(encoded, other).problem == FrameProblem::kBadChecksum);
}

RC_GTEST_PROP(Frame, RoundTrips, (uint64_t sequence, uint64_t watermark)) {
  const std::string payload = *rc::gen::nonEmpty<std::string>();
  std::string encoded;
  AppendFrame(&encoded, sequence, watermark, payload, 17);
  RC_ASSERT(encoded.size() == FrameBytes(payload.size()));
  encoded += "trailing bytes are not part of the frame";
  const DecodedFrame frame = DecodeFrame(encoded, 17);
  RC_ASSERT(frame.problem == FrameProblem::kNone);
  RC_ASSERT(frame.header.sequence == sequence);
  RC_ASSERT(frame.header.durable_watermark == watermark);
  RC_ASSERT(std::string(frame.payload) == payload);
}

RC_GTEST_PROP(Frame, AnySingleBitFlipIsDetected, ()) {
  const std::string payload = *rc::gen::nonEmpty<std::string>();
  std::string encoded;
  AppendFrame(&encoded, 5, 4, payload, 17);
  const size_t bit = *rc::gen::inRange<size_t>(0, encoded.size() * 8);
  encoded[bit / 8] = static_cast<char>(encoded[bit / 8] ^ (1 << (bit % 8)));
  RC_ASSERT(DecodeFrame(encoded, 17).problem != FrameProblem::kNone);
}

// The two-step encoding (payload checksum when queued, header when written)
// gives the same bytes as the one-step one, and the checksum covers the
// payload before the header fields, as FORMAT.md specifies.
RC_GTEST_PROP(Frame, TwoStepEncodingMatchesAndChecksumsPayloadFirst,
              (uint64_t sequence, uint64_t watermark, uint32_t salt)) {
  const std::string payload = *rc::gen::nonEmpty<std::string>();
  std::string one_step;
  AppendFrame(&one_step, sequence, watermark, payload, salt);

  FrameHeader header;
  header.payload_bytes = static_cast<uint32_t>(payload.size());
  header.sequence = sequence;
  header.durable_watermark = watermark;
  std::string two_step(kFrameHeaderBytes, '\0');
  two_step += payload;
  EncodeFrameHeader(header, PayloadCrc(payload), salt, two_step.data());
  RC_ASSERT(two_step == one_step);

  // Recompute the documented checksum from its parts: CRC-32C over the
  // payload, extended over bytes [4, 24) of the header, then over the salt
  // (little-endian), masked.
  uint32_t crc = base::Crc32cExtend(base::Crc32c(payload.data(), payload.size()),
                                    one_step.data() + 4, kFrameHeaderBytes - 4);
  char salt_bytes[4];
  for (int i = 0; i < 4; ++i) salt_bytes[i] = static_cast<char>((salt >> (8 * i)) & 0xFFu);
  crc = base::Crc32cExtend(crc, salt_bytes, sizeof(salt_bytes));
  const uint32_t masked = base::MaskCrc(crc);
  uint32_t stored = 0;
  for (int i = 3; i >= 0; --i) {
    stored = (stored << 8) | static_cast<unsigned char>(one_step[static_cast<size_t>(i)]);
  }
  RC_ASSERT(stored == masked);
}

TEST(Frame, RecognisesTruncationZerosAndBadLengths) {
  std::string encoded;
  AppendFrame(&encoded, 1, 0, "hello", 17);
  for (size_t cut = 0; cut < encoded.size(); ++cut) {
    EXPECT_EQ(DecodeFrame(encoded.substr(0, cut), 17).problem, FrameProblem::kTruncated) << cut;
  }
  EXPECT_EQ(DecodeFrame(std::string(64, '\0'), 17).problem, FrameProblem::kBadLength);
  std::string huge = encoded;
  huge[7] = 0x7F;  // payload_bytes far above kMaxPayloadBytes
  EXPECT_EQ(DecodeFrame(huge, 17).problem, FrameProblem::kBadLength);
}

}  // namespace
}  // namespace faultline::wal::format
