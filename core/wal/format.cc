// core/wal/format.cc — encoding and decoding of segment headers and frames.
#include "core/wal/format.h"

#include <algorithm>
#include <cstring>

#include "core/base/check.h"
#include "core/base/crc32c.h"

namespace faultline::wal::format {
namespace {

using base::Crc32c;
using base::Crc32cExtend;
using base::MaskCrc;
using base::UnmaskCrc;

void PutLe32(char* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFFu);
}
void PutLe64(char* out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFFu);
}
uint32_t GetLe32(const char* in) {
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value |= uint32_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return value;
}
uint64_t GetLe64(const char* in) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value |= uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
  return value;
}

// Header field offsets.
constexpr size_t kVersionOffset = 8;
constexpr size_t kHeaderBytesOffset = 12;
constexpr size_t kFirstSequenceOffset = 16;
constexpr size_t kSaltOffset = 24;
constexpr size_t kHeaderCrcOffset = 28;
static_assert(kHeaderCrcOffset + 4 == kSegmentHeaderBytes);

// Frame field offsets.
constexpr size_t kLengthOffset = 4;
constexpr size_t kSequenceOffset = 8;
constexpr size_t kWatermarkOffset = 16;
static_assert(kWatermarkOffset + 8 == kFrameHeaderBytes);

}  // namespace

std::string SegmentName(uint64_t first_sequence) {
  std::string digits(kSegmentNameDigits, '0');
  for (size_t i = kSegmentNameDigits; i > 0 && first_sequence > 0; --i) {
    digits[i - 1] = static_cast<char>('0' + first_sequence % 10);
    first_sequence /= 10;
  }
  return digits + std::string(kSegmentSuffix);
}

std::optional<uint64_t> ParseSegmentName(std::string_view name) {
  if (name.size() != kSegmentNameDigits + kSegmentSuffix.size()) return std::nullopt;
  if (name.substr(kSegmentNameDigits) != kSegmentSuffix) return std::nullopt;
  __extension__ unsigned __int128 value = 0;
  for (size_t i = 0; i < kSegmentNameDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  // Sequence 0 is no record's (sequences start at 1): a log starting there
  // would end, durably, at 2^64 - 1 before holding anything.
  if (value == 0 || value > UINT64_MAX) return std::nullopt;
  return static_cast<uint64_t>(value);
}

uint32_t SegmentSalt(uint64_t salt_seed, uint64_t first_sequence) {
  // SplitMix64's finalizer over the seed and the sequence: every bit of
  // either changes about half the salt's bits.
  uint64_t z = salt_seed + 0x9e3779b97f4a7c15ull * (first_sequence + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<uint32_t>(z ^ (z >> 32));
}

std::string EncodeSegmentHeader(uint64_t first_sequence, uint32_t salt) {
  std::string out(kSegmentHeaderBytes, '\0');
  std::memcpy(out.data(), kSegmentMagic, sizeof(kSegmentMagic));
  PutLe32(out.data() + kVersionOffset, kFormatVersion);
  PutLe32(out.data() + kHeaderBytesOffset, static_cast<uint32_t>(kSegmentHeaderBytes));
  PutLe64(out.data() + kFirstSequenceOffset, first_sequence);
  PutLe32(out.data() + kSaltOffset, salt);
  PutLe32(out.data() + kHeaderCrcOffset, MaskCrc(Crc32c(out.data(), kHeaderCrcOffset)));
  return out;
}

std::string_view HeaderProblemName(HeaderProblem problem) {
  switch (problem) {
    case HeaderProblem::kNone: return "ok";
    case HeaderProblem::kTooShort: return "segment header is truncated";
    case HeaderProblem::kBadMagic: return "bad segment magic";
    case HeaderProblem::kFutureVersion: return "segment written by a newer format version";
    case HeaderProblem::kOldVersion: return "segment written by an older format version";
    case HeaderProblem::kBadChecksum: return "segment header checksum mismatch";
    case HeaderProblem::kBadLayout: return "segment header fields inconsistent with its version";
  }
  return "unknown header problem";
}

DecodedHeader DecodeSegmentHeader(std::string_view bytes) {
  DecodedHeader decoded;
  if (bytes.size() < kSegmentHeaderBytes) {
    decoded.problem = HeaderProblem::kTooShort;
    return decoded;
  }
  const char* p = bytes.data();
  if (std::memcmp(p, kSegmentMagic, sizeof(kSegmentMagic)) != 0) {
    decoded.problem = HeaderProblem::kBadMagic;
    return decoded;
  }
  // The version is checked before the checksum: a newer version may lay the
  // rest of its header out differently (FORMAT.md fixes only magic and
  // version for all versions), so its checksum cannot be judged here.
  decoded.header.version = GetLe32(p + kVersionOffset);
  if (decoded.header.version > kFormatVersion) {
    decoded.problem = HeaderProblem::kFutureVersion;
    return decoded;
  }
  if (decoded.header.version >= 1 && decoded.header.version < kFormatVersion) {
    decoded.problem = HeaderProblem::kOldVersion;
    return decoded;
  }
  if (UnmaskCrc(GetLe32(p + kHeaderCrcOffset)) != Crc32c(p, kHeaderCrcOffset)) {
    decoded.problem = HeaderProblem::kBadChecksum;
    return decoded;
  }
  if (decoded.header.version == 0 || GetLe32(p + kHeaderBytesOffset) != kSegmentHeaderBytes) {
    decoded.problem = HeaderProblem::kBadLayout;
    return decoded;
  }
  decoded.header.first_sequence = GetLe64(p + kFirstSequenceOffset);
  decoded.header.salt = GetLe32(p + kSaltOffset);
  return decoded;
}

uint32_t PayloadCrc(std::string_view payload) { return Crc32c(payload.data(), payload.size()); }

uint32_t FrameChecksum(const FrameHeader& header, uint32_t payload_crc, uint32_t salt) {
  char fields[kFrameHeaderBytes - kLengthOffset + 4];
  PutLe32(fields, header.payload_bytes);
  PutLe64(fields + (kSequenceOffset - kLengthOffset), header.sequence);
  PutLe64(fields + (kWatermarkOffset - kLengthOffset), header.durable_watermark);
  PutLe32(fields + (kFrameHeaderBytes - kLengthOffset), salt);
  return MaskCrc(Crc32cExtend(payload_crc, fields, sizeof(fields)));
}

uint32_t FrameChecksum(const FrameHeader& header, std::string_view payload, uint32_t salt) {
  return FrameChecksum(header, PayloadCrc(payload), salt);
}

void EncodeFrameHeader(const FrameHeader& header, uint32_t payload_crc, uint32_t salt,
                       char out[kFrameHeaderBytes]) {
  PutLe32(out, FrameChecksum(header, payload_crc, salt));
  PutLe32(out + kLengthOffset, header.payload_bytes);
  PutLe64(out + kSequenceOffset, header.sequence);
  PutLe64(out + kWatermarkOffset, header.durable_watermark);
}

void AppendFrame(std::string* out, uint64_t sequence, uint64_t durable_watermark,
                 std::string_view payload, uint32_t salt) {
  FAULTLINE_CHECK(!payload.empty() && payload.size() <= kMaxPayloadBytes);
  FrameHeader header;
  header.payload_bytes = static_cast<uint32_t>(payload.size());
  header.sequence = sequence;
  header.durable_watermark = durable_watermark;
  char encoded[kFrameHeaderBytes];
  EncodeFrameHeader(header, PayloadCrc(payload), salt, encoded);
  out->append(encoded, sizeof(encoded));
  out->append(payload.data(), payload.size());
}

uint64_t PaddingBytes(uint64_t end_offset, uint32_t sector_bytes) {
  if (sector_bytes == 0) return 0;
  const uint64_t into_sector = end_offset % sector_bytes;
  if (into_sector == 0) return 0;
  uint64_t padding = sector_bytes - into_sector;
  if (padding < FrameBytes(1)) padding += sector_bytes;  // a frame needs >= 1 payload byte
  return padding;
}

void AppendPadding(std::string* out, uint64_t padding_bytes, uint64_t durable_watermark,
                   uint32_t salt) {
  FAULTLINE_CHECK(padding_bytes >= FrameBytes(1) &&
                  padding_bytes <= FrameBytes(kMaxSectorBytes));
  const size_t start = out->size();
  out->append(padding_bytes, '\0');
  const std::string_view zeros(out->data() + start + kFrameHeaderBytes,
                               padding_bytes - kFrameHeaderBytes);
  FrameHeader header;
  header.payload_bytes = static_cast<uint32_t>(zeros.size());
  header.sequence = kPaddingSequence;
  header.durable_watermark = durable_watermark;
  EncodeFrameHeader(header, PayloadCrc(zeros), salt, out->data() + start);
}

FrameHeader DecodeFrameHeader(std::string_view bytes) {
  FAULTLINE_CHECK(bytes.size() >= kFrameHeaderBytes);
  FrameHeader header;
  header.masked_crc = GetLe32(bytes.data());
  header.payload_bytes = GetLe32(bytes.data() + kLengthOffset);
  header.sequence = GetLe64(bytes.data() + kSequenceOffset);
  header.durable_watermark = GetLe64(bytes.data() + kWatermarkOffset);
  return header;
}

std::string_view FrameProblemName(FrameProblem problem) {
  switch (problem) {
    case FrameProblem::kNone: return "ok";
    case FrameProblem::kTruncated: return "record frame runs past the end of the segment";
    case FrameProblem::kBadLength: return "record frame has an impossible length";
    case FrameProblem::kBadChecksum: return "record frame checksum mismatch";
  }
  return "unknown frame problem";
}

bool PlausibleLength(uint32_t payload_bytes) {
  // Empty payloads are not allowed, so an all-zero header never passes.
  return payload_bytes != 0 && payload_bytes <= kMaxPayloadBytes;
}

FrameProblem CheckFrame(const FrameHeader& header, std::string_view payload, uint32_t salt) {
  if (!PlausibleLength(header.payload_bytes)) return FrameProblem::kBadLength;
  if (payload.size() < header.payload_bytes) return FrameProblem::kTruncated;
  FAULTLINE_CHECK(payload.size() == header.payload_bytes);
  if (FrameChecksum(header, payload, salt) != header.masked_crc) return FrameProblem::kBadChecksum;
  return FrameProblem::kNone;
}

DecodedFrame DecodeFrame(std::string_view bytes, uint32_t salt) {
  DecodedFrame decoded;
  if (bytes.size() < kFrameHeaderBytes) {
    decoded.problem = FrameProblem::kTruncated;
    return decoded;
  }
  decoded.header = DecodeFrameHeader(bytes);
  const std::string_view rest = bytes.substr(kFrameHeaderBytes);
  decoded.problem = CheckFrame(
      decoded.header, rest.substr(0, std::min<size_t>(rest.size(), decoded.header.payload_bytes)),
      salt);
  if (decoded.problem == FrameProblem::kNone) decoded.payload = rest.substr(0, decoded.header.payload_bytes);
  return decoded;
}

}  // namespace faultline::wal::format
