// tests/core/replication/wire_test.cc — the codec: round trips, and every
// kind of bad frame rejected (never decoded, never a crash), by example and
// by property (random bytes, truncations, bit flips, oversized frames).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>
#include <vector>

#include "core/base/crc32c.h"
#include "core/replication/wire.h"

namespace faultline::replication {
namespace {

WireLimits Limits() {
  WireLimits limits;
  limits.stream_id = 7;
  limits.max_frame_bytes = 4096;
  limits.max_entries = 64;
  limits.max_entry_bytes = 512;
  return limits;
}

AppendMsg SampleAppend() {
  AppendMsg m;
  m.first_sequence = 41;
  m.commit_sequence = 39;
  m.leader_durable_sequence = 43;
  m.entries = {"a", std::string(300, '\0'), "xyz"};
  return m;
}

RejectReason ReasonOf(const DecodeResult& result) {
  EXPECT_FALSE(result.ok());
  return result.ok() ? RejectReason::kTooShort : std::get<RejectReason>(result.value);
}

TEST(Wire, RoundTripsEveryType) {
  const std::string frame = Encode(SampleAppend(), Limits());
  EXPECT_EQ(frame.size(), AppendFrameBytes(3, 304));
  DecodeResult decoded = Decode(frame, Limits());
  ASSERT_TRUE(decoded.ok());
  const auto& append = std::get<AppendMsg>(std::get<WireMessage>(decoded.value));
  EXPECT_EQ(append.first_sequence, 41u);
  EXPECT_EQ(append.commit_sequence, 39u);
  EXPECT_EQ(append.leader_durable_sequence, 43u);
  EXPECT_EQ(append.entries, SampleAppend().entries);

  decoded = Decode(Encode(AckMsg{99}, Limits()), Limits());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(std::get<AckMsg>(std::get<WireMessage>(decoded.value)).durable_sequence, 99u);

  decoded = Decode(Encode(ResendMsg{5, 4}, Limits()), Limits());
  ASSERT_TRUE(decoded.ok());
  const auto& resend = std::get<ResendMsg>(std::get<WireMessage>(decoded.value));
  EXPECT_EQ(resend.from_sequence, 5u);
  EXPECT_EQ(resend.durable_sequence, 4u);
}

TEST(Wire, RejectsEachKindOfBadFrame) {
  const std::string good = Encode(SampleAppend(), Limits());
  EXPECT_EQ(ReasonOf(Decode("", Limits())), RejectReason::kTooShort);
  EXPECT_EQ(ReasonOf(Decode(good.substr(0, kHeaderBytes - 1), Limits())), RejectReason::kTooShort);
  EXPECT_EQ(ReasonOf(Decode(good.substr(0, good.size() - 1), Limits())), RejectReason::kBadLength);
  EXPECT_EQ(ReasonOf(Decode(good + "x", Limits())), RejectReason::kBadLength);

  std::string bad = good;
  bad[0] ^= 1;
  EXPECT_EQ(ReasonOf(Decode(bad, Limits())), RejectReason::kBadMagic);
  bad = good;
  bad[4] = 2;  // a future version
  EXPECT_EQ(ReasonOf(Decode(bad, Limits())), RejectReason::kWrongVersion);
  bad = good;
  bad[good.size() - 1] ^= 0x40;  // a payload bit
  EXPECT_EQ(ReasonOf(Decode(bad, Limits())), RejectReason::kBadChecksum);

  WireLimits other = Limits();
  other.stream_id = 8;
  EXPECT_EQ(ReasonOf(Decode(good, other)), RejectReason::kWrongStream);
  WireLimits small = Limits();
  small.max_frame_bytes = good.size() - 1;
  EXPECT_EQ(ReasonOf(Decode(good, small)), RejectReason::kTooLong);
  WireLimits few = Limits();
  few.max_entries = 2;
  EXPECT_EQ(ReasonOf(Decode(good, few)), RejectReason::kOutOfBounds);
  WireLimits narrow = Limits();
  narrow.max_entry_bytes = 299;
  EXPECT_EQ(ReasonOf(Decode(good, narrow)), RejectReason::kOutOfBounds);
}

TEST(Wire, RejectsSequenceOverflowAndZero) {
  AppendMsg m;
  m.first_sequence = UINT64_MAX;
  m.entries = {"a", "b"};
  EXPECT_EQ(ReasonOf(Decode(Encode(m, Limits()), Limits())), RejectReason::kOutOfBounds);
  m.first_sequence = 0;
  m.entries = {"a"};
  EXPECT_EQ(ReasonOf(Decode(Encode(m, Limits()), Limits())), RejectReason::kOutOfBounds);
  EXPECT_EQ(ReasonOf(Decode(Encode(ResendMsg{0, 0}, Limits()), Limits())),
            RejectReason::kOutOfBounds);
}

TEST(WireRejects, CountsByReason) {
  WireRejects rejects;
  rejects.Count(RejectReason::kBadChecksum);
  rejects.Count(RejectReason::kBadChecksum);
  rejects.Count(RejectReason::kTooLong);
  EXPECT_EQ(rejects.total(), 3u);
  EXPECT_EQ(rejects.by_reason[static_cast<size_t>(RejectReason::kBadChecksum)], 2u);
  EXPECT_EQ(RejectReasonName(RejectReason::kWrongVersion), "wrong_version");
}

rc::Gen<AppendMsg> GenAppend() {
  return rc::gen::build<AppendMsg>(
      rc::gen::set(&AppendMsg::first_sequence, rc::gen::inRange<uint64_t>(1, 1u << 30)),
      rc::gen::set(&AppendMsg::commit_sequence, rc::gen::arbitrary<uint64_t>()),
      rc::gen::set(&AppendMsg::leader_durable_sequence, rc::gen::arbitrary<uint64_t>()),
      rc::gen::set(&AppendMsg::entries,
                   rc::gen::container<std::vector<std::string>>(
                       rc::gen::resize(40, rc::gen::nonEmpty(rc::gen::string<std::string>())))));
}

RC_GTEST_PROP(WireProperty, AppendRoundTrips, ()) {
  AppendMsg m = *GenAppend();
  RC_PRE(m.entries.size() <= 64);
  const DecodeResult decoded = Decode(Encode(m, Limits()), Limits());
  RC_ASSERT(decoded.ok());
  const auto& back = std::get<AppendMsg>(std::get<WireMessage>(decoded.value));
  RC_ASSERT(back.first_sequence == m.first_sequence);
  RC_ASSERT(back.commit_sequence == m.commit_sequence);
  RC_ASSERT(back.entries == m.entries);
}

// A frame with any byte changed, or cut anywhere, never decodes: a
// corrupted or truncated frame cannot reach a follower's log.
RC_GTEST_PROP(WireProperty, DamagedFramesAreRejected, ()) {
  AppendMsg m = *GenAppend();
  RC_PRE(m.entries.size() <= 64);
  const std::string frame = Encode(m, Limits());
  const size_t at = *rc::gen::inRange<size_t>(0, frame.size());
  const auto flip = *rc::gen::inRange<int>(1, 256);
  std::string damaged = frame;
  damaged[at] = static_cast<char>(static_cast<unsigned char>(damaged[at]) ^ flip);
  RC_ASSERT(!Decode(damaged, Limits()).ok());
  RC_ASSERT(!Decode(std::string_view(frame).substr(0, at), Limits()).ok());
}

// Random bytes never crash the decoder, and whatever it accepts respects the
// limits (the checksum makes acceptance of garbage practically impossible,
// so headers are forged with a valid checksum below).
RC_GTEST_PROP(WireProperty, GarbageNeverCrashes, (const std::string& bytes)) {
  const DecodeResult decoded = Decode(bytes, Limits());
  RC_ASSERT(!decoded.ok() || bytes.size() <= Limits().max_frame_bytes);
}

// Bodies of any shape behind a valid header and checksum: every accepted
// Append keeps to the limits; every rejection is a reason, not a crash.
RC_GTEST_PROP(WireProperty, ForgedBodiesKeepToTheLimits, (const std::string& body)) {
  const auto type = *rc::gen::element<uint8_t>(1, 2, 3, 9);
  std::string frame = Encode(AckMsg{0}, Limits()).substr(0, kHeaderBytes);
  frame[5] = static_cast<char>(type);
  frame += body;
  const auto length = static_cast<uint32_t>(body.size());
  for (int i = 0; i < 4; ++i) frame[16 + i] = static_cast<char>((length >> (8 * i)) & 0xff);
  // Recompute the checksum the way an honest sender would.
  const uint32_t crc = base::MaskCrc(base::Crc32cExtend(base::Crc32c(frame.data(), 20),
                                                        frame.data() + kHeaderBytes, body.size()));
  for (int i = 0; i < 4; ++i) frame[20 + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  const DecodeResult decoded = Decode(frame, Limits());
  if (!decoded.ok()) return;
  if (const auto* append = std::get_if<AppendMsg>(&std::get<WireMessage>(decoded.value))) {
    RC_ASSERT(append->entries.size() <= Limits().max_entries);
    for (const std::string& entry : append->entries) {
      RC_ASSERT(!entry.empty() && entry.size() <= Limits().max_entry_bytes);
    }
  }
}

}  // namespace
}  // namespace faultline::replication
