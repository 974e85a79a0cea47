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
  while (size_bytes >= 8) {
    uint64_t word;
    std::memcpy(&word, p, sizeof(word));  // little-endian, as the instruction expects
    state = _mm_crc32_u64(state, word);
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
