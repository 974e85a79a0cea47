// Tests for core/base/crc32c: both implementations against published CRC-32C
// vectors (RFC 3720 appendix B.4 and the "123456789" check value), against
// each other on random data at every alignment, and the mask bijection.
#include "core/base/crc32c.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

namespace faultline::base {
namespace {

struct Vector {
  std::string data;
  uint32_t crc;
};

std::vector<Vector> KnownVectors() {
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  return {
      {"", 0x00000000u},
      {"123456789", 0xE3069283u},
      {std::string(32, '\0'), 0x8A9136AAu},
      {std::string(32, '\xFF'), 0x62A8AB43u},
      {ascending, 0x46DD794Eu},
      {descending, 0x113FDB5Cu},
  };
}

TEST(Crc32c, SoftwareMatchesKnownVectors) {
  for (const Vector& v : KnownVectors()) {
    EXPECT_EQ(Crc32cExtendSoftware(0, v.data.data(), v.data.size()), v.crc) << v.data.size();
  }
}

TEST(Crc32c, HardwareMatchesKnownVectors) {
  if (!Crc32cHardwareAvailable()) GTEST_SKIP() << "no SSE4.2 on this CPU";
  for (const Vector& v : KnownVectors()) {
    EXPECT_EQ(Crc32cExtendHardware(0, v.data.data(), v.data.size()), v.crc) << v.data.size();
  }
}

TEST(Crc32c, DispatchMatchesKnownVectors) {
  for (const Vector& v : KnownVectors()) EXPECT_EQ(Crc32c(v.data), v.crc);
}

TEST(Crc32c, MaskIsABijectionThatChangesTheValue) {
  for (uint32_t crc : {0u, 1u, 0xE3069283u, 0xFFFFFFFFu, 0x80000000u}) {
    EXPECT_EQ(UnmaskCrc(MaskCrc(crc)), crc);
    EXPECT_NE(MaskCrc(crc), crc);
  }
}

RC_GTEST_PROP(Crc32c, HardwareEqualsSoftwareAtEveryAlignment, (const std::string& data)) {
  const size_t offset = *rc::gen::inRange<size_t>(0, 8);
  const std::string shifted = std::string(offset, 'x') + data;
  const char* p = shifted.data() + offset;
  const uint32_t software = Crc32cExtendSoftware(0, p, data.size());
  if (Crc32cHardwareAvailable()) RC_ASSERT(Crc32cExtendHardware(0, p, data.size()) == software);
  RC_ASSERT(Crc32c(data) == software);
}

// Long inputs take the hardware path's three-stream loop (several 768-byte
// chunks and every kind of remainder), from any starting CRC.
RC_GTEST_PROP(Crc32c, HardwareEqualsSoftwareOnLongInputs, (uint32_t start)) {
  const size_t size = *rc::gen::inRange<size_t>(0, 10'000);
  const size_t offset = *rc::gen::inRange<size_t>(0, 8);
  const std::vector<char> bytes = *rc::gen::container<std::vector<char>>(
      offset + size, rc::gen::arbitrary<char>());
  const char* p = bytes.data() + offset;
  const uint32_t software = Crc32cExtendSoftware(start, p, size);
  if (Crc32cHardwareAvailable()) RC_ASSERT(Crc32cExtendHardware(start, p, size) == software);
  RC_ASSERT(Crc32cExtend(start, p, size) == software);
}

RC_GTEST_PROP(Crc32c, ExtendConcatenates, (const std::string& a, const std::string& b)) {
  RC_ASSERT(Crc32cExtend(Crc32c(a), b.data(), b.size()) == Crc32c(a + b));
  RC_ASSERT(Crc32cExtendSoftware(Crc32cExtendSoftware(0, a.data(), a.size()), b.data(),
                                 b.size()) == Crc32c(a + b));
}

}  // namespace
}  // namespace faultline::base
