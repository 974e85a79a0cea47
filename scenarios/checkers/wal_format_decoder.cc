// scenarios/checkers/wal_format_decoder.cc — see wal_format_decoder.h. Every
// constant and rule below is taken from core/wal/FORMAT.md.
#include "scenarios/checkers/wal_format_decoder.h"

#include <array>
#include <optional>

#include "absl/strings/str_cat.h"

namespace faultline::scenarios {
namespace {

constexpr uint64_t kHeaderBytes = 32;
constexpr uint64_t kFrameHeaderBytes = 24;
constexpr uint64_t kMaxPayloadBytes = 64ull << 20;
constexpr uint32_t kVersion = 2;
constexpr std::string_view kMagic = "FLTWALSG";
constexpr size_t kNameDigits = 20;
constexpr uint64_t kPaddingSequence = 0;  // a padding frame: no record

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) != 0 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();

uint64_t Le(std::string_view bytes, size_t at, size_t width) {
  uint64_t value = 0;
  for (size_t i = 0; i < width; ++i) {
    value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  }
  return value;
}

std::string LeBytes(uint32_t value) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  return out;
}

absl::Status Bad(std::string_view name, uint64_t offset, std::string_view what) {
  return absl::DataLossError(absl::StrCat("decoder: ", std::string(name), " offset ", offset, ": ",
                                          std::string(what)));
}

// "exactly 20 decimal digits, zero-padded, then .wal"; sequence 0 is no name.
std::optional<uint64_t> ParseName(std::string_view name) {
  if (name.size() != kNameDigits + 4 || name.substr(kNameDigits) != ".wal") return std::nullopt;
  uint64_t value = 0;
  for (size_t i = 0; i < kNameDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return std::nullopt;
    const uint64_t digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  if (value == 0) return std::nullopt;
  return value;
}

// Decodes one segment's header; returns its salt.
absl::StatusOr<uint32_t> DecodeHeader(std::string_view name, std::string_view bytes,
                                      uint64_t first_sequence) {
  if (bytes.size() < kHeaderBytes) return Bad(name, 0, "shorter than a segment header");
  if (bytes.substr(0, 8) != kMagic) return Bad(name, 0, "bad magic");
  if (Le(bytes, 8, 4) != kVersion) return Bad(name, 8, "unknown version");
  if (Le(bytes, 12, 4) != kHeaderBytes) return Bad(name, 12, "bad header_bytes");
  if (Le(bytes, 16, 8) != first_sequence) return Bad(name, 16, "first_sequence is not the name");
  if (Le(bytes, 28, 4) != MaskCrc(IndependentCrc32c(bytes.substr(0, 28)))) {
    return Bad(name, 28, "header checksum");
  }
  return static_cast<uint32_t>(Le(bytes, 24, 4));
}

// Decodes every frame of one segment, expecting `*next` first; advances it.
absl::Status DecodeFrames(std::string_view name, std::string_view bytes, uint32_t salt,
                          uint64_t* next, DecodedLog* out) {
  uint64_t offset = kHeaderBytes;
  while (offset < bytes.size()) {  // each frame is at least 25 bytes
    if (bytes.size() - offset < kFrameHeaderBytes) return Bad(name, offset, "torn frame header");
    const uint64_t length = Le(bytes, offset + 4, 4);
    if (length == 0 || length > kMaxPayloadBytes) return Bad(name, offset, "bad payload length");
    if (bytes.size() - offset - kFrameHeaderBytes < length) return Bad(name, offset, "torn payload");
    const std::string_view payload = bytes.substr(offset + kFrameHeaderBytes, length);
    const std::string covered =
        std::string(payload) + std::string(bytes.substr(offset + 4, 20)) + LeBytes(salt);
    if (Le(bytes, offset, 4) != MaskCrc(IndependentCrc32c(covered))) {
      return Bad(name, offset, "frame checksum");
    }
    const uint64_t sequence = Le(bytes, offset + 8, 8);
    if (sequence == kPaddingSequence) {
      if (payload.find_first_not_of('\0') != std::string_view::npos) {
        return Bad(name, offset, "padding frame with a payload that is not zeros");
      }
      out->padding.push_back(DecodedPadding{.segment = std::string(name),
                                            .offset_bytes = offset,
                                            .frame_bytes = kFrameHeaderBytes + length});
      offset += kFrameHeaderBytes + length;
      continue;
    }
    if (sequence != *next || sequence == UINT64_MAX) {
      return Bad(name, offset, absl::StrCat("sequence ", sequence, " where ", *next, " was next"));
    }
    out->records.push_back(DecodedRecord{.segment = std::string(name),
                                 .offset_bytes = offset,
                                 .frame_bytes = kFrameHeaderBytes + length,
                                 .sequence = sequence,
                                 .durable_watermark = Le(bytes, offset + 16, 8),
                                 .payload = std::string(payload)});
    ++*next;
    offset += kFrameHeaderBytes + length;
  }
  return absl::OkStatus();
}

}  // namespace

uint32_t IndependentCrc32c(std::string_view bytes) {
  uint32_t crc = 0xFFFFFFFFu;
  for (const char c : bytes) crc = kTable[(crc ^ static_cast<unsigned char>(c)) & 0xff] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint32_t MaskCrc(uint32_t crc) { return ((crc >> 15) | (crc << 17)) + 0x9e3779b9u; }

absl::StatusOr<DecodedLog> DecodeWalDirectory(const std::map<std::string, std::string>& files) {
  DecodedLog log;
  std::optional<uint64_t> next;  // the sequence the next segment must start at
  for (const auto& [name, bytes] : files) {  // sorted: names sort as numbers
    const std::optional<uint64_t> first = ParseName(name);
    if (!first.has_value()) return Bad(name, 0, "not a segment name");
    if (next.has_value() && *first != *next) {
      return Bad(name, 0, absl::StrCat("starts at ", *first, " where ", *next, " was next"));
    }
    absl::StatusOr<uint32_t> salt = DecodeHeader(name, bytes, *first);
    if (!salt.ok()) return salt.status();
    if (log.first_sequence == 0) log.first_sequence = *first;
    uint64_t sequence = *first;
    absl::Status frames = DecodeFrames(name, bytes, *salt, &sequence, &log);
    if (!frames.ok()) return frames;
    next = sequence;
  }
  return log;
}

}  // namespace faultline::scenarios
