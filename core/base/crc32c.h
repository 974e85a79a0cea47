// core/base/crc32c.h — CRC-32C (Castagnoli): the checksum of every format
// Faultline writes (WAL headers and frames, TCP frames).
//
// CRC-32C rather than zlib's CRC-32 because x86-64 computes it in hardware
// (SSE4.2 `crc32`), and because its error-detection properties over short
// messages are at least as good. Two implementations compute the same
// function: a hardware one (used when the CPU has SSE4.2, decided once at
// first use) and a portable table-driven one; both are exposed so that tests
// can check each against known vectors.
//
// Conventions: the standard CRC-32C (reflected, polynomial 0x82F63B78,
// initial value and final XOR 0xFFFFFFFF), so Crc32c("123456789") ==
// 0xE3069283.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace faultline::base {

// CRC-32C of `data` continuing from `crc`, the CRC-32C of some prefix
// (0 for the empty prefix): Crc32cExtend(Crc32c(a), b) == Crc32c(a + b).
uint32_t Crc32cExtend(uint32_t crc, const char* data, size_t size_bytes);

inline uint32_t Crc32c(const char* data, size_t size_bytes) {
  return Crc32cExtend(0, data, size_bytes);
}
inline uint32_t Crc32c(std::string_view data) { return Crc32c(data.data(), data.size()); }

// The two implementations behind Crc32cExtend, for tests and benchmarks.
uint32_t Crc32cExtendSoftware(uint32_t crc, const char* data, size_t size_bytes);
// Must only be called when Crc32cHardwareAvailable().
uint32_t Crc32cExtendHardware(uint32_t crc, const char* data, size_t size_bytes);
// Whether this CPU has the SSE4.2 crc32 instruction (always false off x86-64).
bool Crc32cHardwareAvailable();

// Stored checksums are masked: a CRC computed over bytes that themselves
// contain CRCs (a WAL record carried inside another WAL record, say) is
// otherwise prone to degenerate values. Masking is a bijection, so nothing is
// lost: Unmask(Mask(c)) == c.
inline constexpr uint32_t kCrcMaskDelta = 0x9e3779b9u;
inline uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + kCrcMaskDelta; }
inline uint32_t UnmaskCrc(uint32_t masked) {
  const uint32_t rotated = masked - kCrcMaskDelta;
  return (rotated >> 17) | (rotated << 15);
}

}  // namespace faultline::base
