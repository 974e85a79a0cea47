// core/base/crc32c.cc — the software (table) and hardware (SSE4.2) CRC-32C.
#include "core/base/crc32c.h"

#include <array>
#include <cstring>

#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

namespace faultline::base {
namespace {

constexpr uint32_t kPolynomialReflected = 0x82F63B78u;

// Slicing-by-4 tables: table[0] is the classic byte-at-a-time table;
// table[k][b] is the CRC contribution of byte b followed by k zero bytes, so
// four input bytes fold into the CRC with four independent lookups.
using Tables = std::array<std::array<uint32_t, 256>, 4>;

constexpr Tables MakeTables() {
  Tables tables{};
  for (uint32_t byte = 0; byte < 256; ++byte) {
    uint32_t crc = byte;
    for (int bit = 0; bit < 8; ++bit) {
      crc = (crc & 1u) != 0 ? (crc >> 1) ^ kPolynomialReflected : crc >> 1;
    }
    tables[0][byte] = crc;
  }
  for (uint32_t byte = 0; byte < 256; ++byte) {
    for (size_t k = 1; k < 4; ++k) {
      const uint32_t previous = tables[k - 1][byte];
      tables[k][byte] = (previous >> 8) ^ tables[0][previous & 0xFFu];
    }
  }
  return tables;
}

constexpr Tables kTables = MakeTables();
static_assert(kTables[0][1] == 0xF26B8303u, "CRC-32C table generation is wrong");

// The hardware path runs three independent CRC streams over consecutive
// kStreamBytes blocks, because one crc32 instruction's latency is three times
// its issue interval; the streams are then joined with the zeros operator.
constexpr size_t kStreamBytes = 256;

// The zeros operator: the (uninverted) CRC state after kStreamBytes zero
// bytes, as a function of the state before. CRC is linear over GF(2), so
// the operator is a 32x32 bit matrix, kept as four byte-indexed tables like
// the slicing tables. With it, the state after blocks X then Y is
// Zeros(state after X) ^ (state after Y started from 0).
constexpr Tables MakeZerosTables() {
  std::array<uint32_t, 32> image_of_bit{};
  for (int bit = 0; bit < 32; ++bit) {
    uint32_t state = 1u << bit;
    for (size_t i = 0; i < kStreamBytes; ++i) state = (state >> 8) ^ kTables[0][state & 0xFFu];
    image_of_bit[static_cast<size_t>(bit)] = state;
  }
  Tables tables{};
  for (size_t k = 0; k < 4; ++k) {
    for (uint32_t byte = 0; byte < 256; ++byte) {
      uint32_t image = 0;
      for (size_t i = 0; i < 8; ++i) {
        if (((byte >> i) & 1u) != 0) image ^= image_of_bit[8 * k + i];
      }
      tables[k][byte] = image;
    }
  }
  return tables;
}

constexpr Tables kZerosTables = MakeZerosTables();

[[maybe_unused]] uint32_t ShiftPastStreamBytes(uint32_t state) {
  return kZerosTables[0][state & 0xFFu] ^ kZerosTables[1][(state >> 8) & 0xFFu] ^
         kZerosTables[2][(state >> 16) & 0xFFu] ^ kZerosTables[3][state >> 24];
}

uint32_t LoadLe32(const unsigned char* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

}  // namespace

uint32_t Crc32cExtendSoftware(uint32_t crc, const char* data, size_t size_bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  uint32_t state = ~crc;
  while (size_bytes >= 4) {
    state ^= LoadLe32(p);
    state = kTables[3][state & 0xFFu] ^ kTables[2][(state >> 8) & 0xFFu] ^
            kTables[1][(state >> 16) & 0xFFu] ^ kTables[0][state >> 24];
    p += 4;
    size_bytes -= 4;
  }
  while (size_bytes > 0) {
    state = (state >> 8) ^ kTables[0][(state ^ *p) & 0xFFu];
    ++p;
    --size_bytes;
  }
  return ~state;
}

#if defined(__x86_64__)

__attribute__((target("sse4.2"))) uint32_t Crc32cExtendHardware(uint32_t crc, const char* data,
                                                                 size_t size_bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  uint64_t state = ~crc;
  // Byte steps until 8-byte aligned, so the 64-bit loads below are aligned.
  while (size_bytes > 0 && (reinterpret_cast<uintptr_t>(p) & 7u) != 0) {
    state = _mm_crc32_u8(static_cast<uint32_t>(state), *p);
    ++p;
    --size_bytes;
  }
  // Little-endian loads, as the instruction expects.
  auto load = [](const unsigned char* at) {
    uint64_t word;
    std::memcpy(&word, at, sizeof(word));
    return word;
  };
  // Three streams at a time (see kStreamBytes), then one.
  while (size_bytes >= 3 * kStreamBytes) {
    uint64_t first = state;
    uint64_t second = 0;
    uint64_t third = 0;
    for (size_t i = 0; i < kStreamBytes; i += 8) {
      first = _mm_crc32_u64(first, load(p + i));
      second = _mm_crc32_u64(second, load(p + kStreamBytes + i));
      third = _mm_crc32_u64(third, load(p + 2 * kStreamBytes + i));
    }
    state = ShiftPastStreamBytes(ShiftPastStreamBytes(static_cast<uint32_t>(first)) ^
                                 static_cast<uint32_t>(second)) ^
            static_cast<uint32_t>(third);
    p += 3 * kStreamBytes;
    size_bytes -= 3 * kStreamBytes;
  }
  while (size_bytes >= 8) {
    state = _mm_crc32_u64(state, load(p));
    p += 8;
    size_bytes -= 8;
  }
  while (size_bytes > 0) {
    state = _mm_crc32_u8(static_cast<uint32_t>(state), *p);
    ++p;
    --size_bytes;
  }
  return ~static_cast<uint32_t>(state);
}

bool Crc32cHardwareAvailable() {
  // CPUID is deterministic for a given machine; the answer never changes
  // while the process runs, so computing it once is safe.
  static const bool available = __builtin_cpu_supports("sse4.2");
  return available;
}

#else

uint32_t Crc32cExtendHardware(uint32_t crc, const char* data, size_t size_bytes) {
  return Crc32cExtendSoftware(crc, data, size_bytes);
}
bool Crc32cHardwareAvailable() { return false; }

#endif

uint32_t Crc32cExtend(uint32_t crc, const char* data, size_t size_bytes) {
  if (Crc32cHardwareAvailable()) return Crc32cExtendHardware(crc, data, size_bytes);
  return Crc32cExtendSoftware(crc, data, size_bytes);
}

}  // namespace faultline::base
