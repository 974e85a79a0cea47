// core/journal/snapshot_format.cc — see snapshot_format.h and FORMAT.md.
#include "core/journal/snapshot_format.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"
#include "core/base/crc32c.h"

namespace faultline::journal::format {
namespace {

constexpr std::string_view kPrefix = "snapshot-";
constexpr std::string_view kSuffix = ".snap";
constexpr size_t kDigits = 20;
constexpr size_t kHeaderCrcOffset = 36;

}  // namespace

std::string SnapshotName(uint64_t sequence) {
  std::string digits = std::to_string(sequence);
  FAULTLINE_CHECK(digits.size() <= kDigits);
  return absl::StrCat(AsAbsl(kPrefix), std::string(kDigits - digits.size(), '0'), digits,
                      AsAbsl(kSuffix));
}

std::string TmpName(uint64_t sequence) { return absl::StrCat(SnapshotName(sequence), AsAbsl(kTmpSuffix)); }

std::optional<uint64_t> ParseSnapshotName(std::string_view name) {
  if (name.size() != kPrefix.size() + kDigits + kSuffix.size()) return std::nullopt;
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  if (name.substr(kPrefix.size() + kDigits) != kSuffix) return std::nullopt;
  uint64_t value = 0;
  for (char c : name.substr(kPrefix.size(), kDigits)) {
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}

bool IsTmpName(std::string_view name) {
  if (name.size() <= kTmpSuffix.size()) return false;
  if (name.substr(name.size() - kTmpSuffix.size()) != kTmpSuffix) return false;
  return ParseSnapshotName(name.substr(0, name.size() - kTmpSuffix.size())).has_value();
}

void PutU32(char* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

void PutU64(char* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

uint32_t GetU32(std::string_view bytes) {
  FAULTLINE_CHECK(bytes.size() >= 4);
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

uint64_t GetU64(std::string_view bytes) {
  FAULTLINE_CHECK(bytes.size() >= 8);
  uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | static_cast<uint8_t>(bytes[i]);
  return value;
}

void EncodeHeader(const Header& header, char out[kHeaderBytes]) {
  std::memcpy(out, kSnapshotMagic, sizeof(kSnapshotMagic));
  PutU32(out + 8, header.version);
  PutU32(out + 12, static_cast<uint32_t>(kHeaderBytes));
  PutU64(out + 16, header.sequence);
  PutU64(out + 24, header.body_bytes);
  PutU32(out + 32, header.body_crc);
  PutU32(out + kHeaderCrcOffset, base::MaskCrc(base::Crc32c(out, kHeaderCrcOffset)));
}

std::string_view HeaderProblemName(HeaderProblem problem) {
  switch (problem) {
    case HeaderProblem::kNone: return "ok";
    case HeaderProblem::kShort: return "shorter than a snapshot header";
    case HeaderProblem::kBadMagic: return "bad magic";
    case HeaderProblem::kOtherVersion: return "unknown format version";
    case HeaderProblem::kBadChecksum: return "header checksum mismatch";
    case HeaderProblem::kBadLength: return "bad header or body length";
  }
  return "?";
}

DecodedHeader DecodeHeader(std::string_view bytes) {
  DecodedHeader decoded;
  if (bytes.size() < kHeaderBytes) {
    decoded.problem = HeaderProblem::kShort;
    return decoded;
  }
  if (std::memcmp(bytes.data(), kSnapshotMagic, sizeof(kSnapshotMagic)) != 0) {
    decoded.problem = HeaderProblem::kBadMagic;
    return decoded;
  }
  // The checksum before the version: a flipped version bit is damage, not a
  // newer file (every version keeps the checksum at offset 36; FORMAT.md).
  const uint32_t stored = base::UnmaskCrc(GetU32(bytes.substr(kHeaderCrcOffset)));
  if (stored != base::Crc32c(bytes.data(), kHeaderCrcOffset)) {
    decoded.problem = HeaderProblem::kBadChecksum;
    return decoded;
  }
  decoded.header.version = GetU32(bytes.substr(8));
  if (decoded.header.version != kFormatVersion) {
    decoded.problem = HeaderProblem::kOtherVersion;
    return decoded;
  }
  decoded.header.sequence = GetU64(bytes.substr(16));
  decoded.header.body_bytes = GetU64(bytes.substr(24));
  decoded.header.body_crc = GetU32(bytes.substr(32));
  if (GetU32(bytes.substr(12)) != kHeaderBytes || decoded.header.body_bytes > kMaxBodyBytes) {
    decoded.problem = HeaderProblem::kBadLength;
  }
  return decoded;
}

}  // namespace faultline::journal::format
