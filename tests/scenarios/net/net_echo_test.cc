// tests/scenarios/net/net_echo_test.cc — the net_echo scenario: its codec
// rejects every damaged frame, it passes a fixed sweep of seeds and replays
// bit for bit, and its checkers catch deliberately broken protocols (no
// checksum check, no retransmission, acks that never rewind after a
// receiver's restart), each within a bounded number of seeds.
#include "scenarios/net/net_echo.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/base/crc32c.h"
#include "harness/gtest_seeds.h"
#include "scenarios/net/echo_codec.h"
#include "scenarios/registry.h"

namespace faultline::scenarios {
namespace {

using net_echo::DecodeEchoFrame;
using net_echo::EchoFrame;
using net_echo::EncodeEchoFrame;

EchoFrame SomeFrame(const std::string& body) {
  return EchoFrame{.type = EchoFrame::Type::kData, .from = 1, .to = 2, .seq = 77, .epoch = 0,
                   .body = body.substr(0, net_echo::kMaxEchoBodyBytes)};
}

RC_GTEST_PROP(EchoCodecTest, RoundTrips, (const std::string& body)) {
  const EchoFrame frame = SomeFrame(body);
  const auto decoded = DecodeEchoFrame(EncodeEchoFrame(frame));
  RC_ASSERT(decoded.ok());
  RC_ASSERT(*decoded == frame);
}

RC_GTEST_PROP(EchoCodecTest, AnySingleBitFlipIsRejected, (const std::string& body)) {
  std::string bytes = EncodeEchoFrame(SomeFrame(body));
  const size_t bit = *rc::gen::inRange<size_t>(0, bytes.size() * 8);
  bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1 << (bit % 8)));
  RC_ASSERT(!DecodeEchoFrame(bytes).ok());
}

RC_GTEST_PROP(EchoCodecTest, TruncatedOrExtendedIsRejected, (const std::string& body)) {
  const std::string bytes = EncodeEchoFrame(SomeFrame(body));
  const size_t keep = *rc::gen::inRange<size_t>(0, bytes.size());
  RC_ASSERT(!DecodeEchoFrame(std::string_view(bytes).substr(0, keep)).ok());
  RC_ASSERT(!DecodeEchoFrame(bytes + "x").ok());
}

TEST(NetEchoTest, RegisteredAndPassesSeeds) {
  const Scenario* scenario = FindScenario("net_echo");
  ASSERT_NE(scenario, nullptr);
  harness::ExpectSeedsPass(*scenario, 300);
}

TEST(NetEchoTest, SameSeedSameTraceHashAndCoverage) {
  for (uint64_t seed : {1u, 77u, 4242u}) {
    const ScenarioResult a = RunNetEcho(ScenarioOptions{.seed = seed});
    const ScenarioResult b = RunNetEcho(ScenarioOptions{.seed = seed});
    EXPECT_TRUE(a.passed()) << a.violation << a.run.detail;
    EXPECT_EQ(a.run.trace_hash, b.run.trace_hash) << seed;
    EXPECT_EQ(a.faults_injected, b.faults_injected);
  }
}

// --- the checkers bite ------------------------------------------------------------

// Parses a frame whatever its checksum says: the checksum is re-stamped
// over the received bytes first.
absl::StatusOr<EchoFrame> DecodeIgnoringChecksum(std::string_view bytes) {
  if (bytes.size() < 4) return DecodeEchoFrame(bytes);
  std::string patched(bytes.substr(0, bytes.size() - 4));
  const uint32_t crc = base::MaskCrc(base::Crc32c(patched));
  for (int i = 0; i < 4; ++i) patched.push_back(static_cast<char>((crc >> (8 * i)) & 0xff));
  return DecodeEchoFrame(patched);
}

// The first failing seed below `max_seeds` and its violation.
struct Detection {
  uint64_t seed = 0;
  std::string violation;
};
Detection FirstFailure(const NetEchoVariant& variant, uint64_t max_seeds) {
  for (uint64_t seed = 0; seed < max_seeds; ++seed) {
    const ScenarioResult result = RunNetEcho(ScenarioOptions{.seed = seed}, variant);
    if (!result.passed()) return {seed, result.violation};
  }
  return {max_seeds, ""};
}

TEST(NetEchoBugDetectionTest, AcceptingWithoutTheChecksumIsCaught) {
  const Detection found = FirstFailure({.decode = DecodeIgnoringChecksum}, 200);
  ASSERT_LT(found.seed, 200u) << "never caught";
  EXPECT_EQ(found.violation.find("liveness"), std::string::npos) << found.violation;
  RecordProperty("seeds_to_detection", static_cast<int>(found.seed + 1));
}

TEST(NetEchoBugDetectionTest, SendingEachFrameOnceIsCaughtByLiveness) {
  const Detection found = FirstFailure({.retransmit = false}, 200);
  ASSERT_LT(found.seed, 200u) << "never caught";
  EXPECT_EQ(found.violation.rfind("liveness: ", 0), 0u) << found.violation;
  RecordProperty("seeds_to_detection", static_cast<int>(found.seed + 1));
}

TEST(NetEchoBugDetectionTest, IgnoringAReceiversRestartIsCaughtByLiveness) {
  const Detection found = FirstFailure({.rewind_on_restart = false}, 200);
  ASSERT_LT(found.seed, 200u) << "never caught";
  EXPECT_EQ(found.violation.rfind("liveness: ", 0), 0u) << found.violation;
  RecordProperty("seeds_to_detection", static_cast<int>(found.seed + 1));
}

}  // namespace
}  // namespace faultline::scenarios
