// core/replication/wire.cc — encoding and defensive decoding of the
// replication messages (layout: PROTOCOL.md).
#include "core/replication/wire.h"

#include <cstring>
#include <limits>

#include "core/base/check.h"
#include "core/base/crc32c.h"

namespace faultline::replication {
namespace {

// Header offsets.
constexpr size_t kMagicAt = 0;
constexpr size_t kVersionAt = 4;
constexpr size_t kTypeAt = 5;
constexpr size_t kFlagsAt = 6;
constexpr size_t kStreamAt = 8;
constexpr size_t kBodyLengthAt = 16;
constexpr size_t kCrcAt = 20;
static_assert(kCrcAt + 4 == kHeaderBytes);

void PutU32(std::string& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
void PutU64(std::string& out, uint64_t value) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}
uint64_t GetLe(std::string_view bytes, size_t at, int width) {
  uint64_t value = 0;
  for (int i = 0; i < width; ++i) {
    value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[at + i])) << (8 * i);
  }
  return value;
}
uint32_t GetU32(std::string_view bytes, size_t at) {
  return static_cast<uint32_t>(GetLe(bytes, at, 4));
}
uint64_t GetU64(std::string_view bytes, size_t at) { return GetLe(bytes, at, 8); }

// The checksum covers the header up to the CRC field, then the body.
uint32_t FrameCrc(std::string_view frame) {
  const uint32_t crc = base::Crc32c(frame.data(), kCrcAt);
  return base::MaskCrc(
      base::Crc32cExtend(crc, frame.data() + kHeaderBytes, frame.size() - kHeaderBytes));
}

void EncodeBody(const AppendMsg& m, std::string& out) {
  PutU64(out, m.first_sequence);
  PutU64(out, m.commit_sequence);
  PutU64(out, m.leader_durable_sequence);
  PutU32(out, static_cast<uint32_t>(m.entries.size()));
  for (const std::string& entry : m.entries) {
    PutU32(out, static_cast<uint32_t>(entry.size()));
    out.append(entry);
  }
}
void EncodeBody(const AckMsg& m, std::string& out) { PutU64(out, m.durable_sequence); }
void EncodeBody(const ResendMsg& m, std::string& out) {
  PutU64(out, m.from_sequence);
  PutU64(out, m.durable_sequence);
}

MessageType TypeOf(const WireMessage& message) {
  if (std::holds_alternative<AppendMsg>(message)) return MessageType::kAppend;
  if (std::holds_alternative<AckMsg>(message)) return MessageType::kAck;
  return MessageType::kResend;
}

DecodeResult Reject(RejectReason reason) { return DecodeResult{reason}; }

DecodeResult DecodeAppend(std::string_view body, const WireLimits& limits) {
  if (body.size() < kAppendFixedBytes) return Reject(RejectReason::kMalformedBody);
  AppendMsg m;
  m.first_sequence = GetU64(body, 0);
  m.commit_sequence = GetU64(body, 8);
  m.leader_durable_sequence = GetU64(body, 16);
  const uint32_t count = GetU32(body, 24);
  if (m.first_sequence == 0 || count > limits.max_entries) {
    return Reject(RejectReason::kOutOfBounds);
  }
  // The last entry's sequence must exist: first + count - 1 <= max.
  if (count > 0 && m.first_sequence > std::numeric_limits<uint64_t>::max() - (count - 1)) {
    return Reject(RejectReason::kOutOfBounds);
  }
  // Each entry needs at least its prefix: reject a count the body cannot hold
  // before reserving anything for it.
  if (count > (body.size() - kAppendFixedBytes) / kEntryPrefixBytes) {
    return Reject(RejectReason::kMalformedBody);
  }
  m.entries.reserve(count);
  size_t at = kAppendFixedBytes;
  for (uint32_t i = 0; i < count; ++i) {
    if (body.size() - at < kEntryPrefixBytes) return Reject(RejectReason::kMalformedBody);
    const uint32_t length = GetU32(body, at);
    at += kEntryPrefixBytes;
    if (length == 0 || length > limits.max_entry_bytes) return Reject(RejectReason::kOutOfBounds);
    if (body.size() - at < length) return Reject(RejectReason::kMalformedBody);
    m.entries.emplace_back(body.substr(at, length));
    at += length;
  }
  if (at != body.size()) return Reject(RejectReason::kMalformedBody);
  return DecodeResult{WireMessage(std::move(m))};
}

}  // namespace

std::string_view RejectReasonName(RejectReason reason) {
  switch (reason) {
    case RejectReason::kTooShort: return "too_short";
    case RejectReason::kTooLong: return "too_long";
    case RejectReason::kBadMagic: return "bad_magic";
    case RejectReason::kWrongVersion: return "wrong_version";
    case RejectReason::kWrongStream: return "wrong_stream";
    case RejectReason::kBadLength: return "bad_length";
    case RejectReason::kBadChecksum: return "bad_checksum";
    case RejectReason::kUnknownType: return "unknown_type";
    case RejectReason::kMalformedBody: return "malformed_body";
    case RejectReason::kOutOfBounds: return "out_of_bounds";
  }
  return "unknown";
}

uint64_t WireRejects::total() const {
  uint64_t sum = 0;
  for (uint64_t n : by_reason) sum += n;
  return sum;
}

std::string Encode(const WireMessage& message, const WireLimits& limits) {
  std::string out;
  PutU32(out, kWireMagic);
  out.push_back(static_cast<char>(kWireVersion));
  out.push_back(static_cast<char>(TypeOf(message)));
  out.append(2, '\0');  // flags: none defined
  PutU64(out, limits.stream_id);
  PutU32(out, 0);  // body length, filled in below
  PutU32(out, 0);  // checksum, filled in below
  std::visit([&out](const auto& m) { EncodeBody(m, out); }, message);
  FAULTLINE_CHECK_MSG(out.size() <= limits.max_frame_bytes,
                      "a replication frame exceeds max_frame_bytes");
  if (const auto* append = std::get_if<AppendMsg>(&message)) {
    FAULTLINE_CHECK(append->entries.size() <= limits.max_entries);
    for (const std::string& entry : append->entries) {
      FAULTLINE_CHECK(!entry.empty() && entry.size() <= limits.max_entry_bytes);
    }
  }
  const auto body_bytes = static_cast<uint32_t>(out.size() - kHeaderBytes);
  for (int i = 0; i < 4; ++i) out[kBodyLengthAt + i] = static_cast<char>((body_bytes >> (8 * i)) & 0xff);
  const uint32_t crc = FrameCrc(out);
  for (int i = 0; i < 4; ++i) out[kCrcAt + i] = static_cast<char>((crc >> (8 * i)) & 0xff);
  return out;
}

DecodeResult Decode(std::string_view frame, const WireLimits& limits) {
  if (frame.size() < kHeaderBytes) return Reject(RejectReason::kTooShort);
  if (frame.size() > limits.max_frame_bytes) return Reject(RejectReason::kTooLong);
  if (GetU32(frame, kMagicAt) != kWireMagic) return Reject(RejectReason::kBadMagic);
  if (static_cast<uint8_t>(frame[kVersionAt]) != kWireVersion) {
    return Reject(RejectReason::kWrongVersion);
  }
  if (GetU32(frame, kBodyLengthAt) != frame.size() - kHeaderBytes) {
    return Reject(RejectReason::kBadLength);
  }
  // The checksum before any other field is believed.
  if (GetU32(frame, kCrcAt) != FrameCrc(frame)) return Reject(RejectReason::kBadChecksum);
  if (GetU64(frame, kStreamAt) != limits.stream_id) return Reject(RejectReason::kWrongStream);
  if (frame[kFlagsAt] != 0 || frame[kFlagsAt + 1] != 0) return Reject(RejectReason::kMalformedBody);
  const std::string_view body = frame.substr(kHeaderBytes);
  switch (static_cast<uint8_t>(frame[kTypeAt])) {
    case static_cast<uint8_t>(MessageType::kAppend):
      return DecodeAppend(body, limits);
    case static_cast<uint8_t>(MessageType::kAck):
      if (body.size() != kAckBodyBytes) return Reject(RejectReason::kMalformedBody);
      return DecodeResult{WireMessage(AckMsg{GetU64(body, 0)})};
    case static_cast<uint8_t>(MessageType::kResend): {
      if (body.size() != kResendBodyBytes) return Reject(RejectReason::kMalformedBody);
      const ResendMsg m{GetU64(body, 0), GetU64(body, 8)};
      if (m.from_sequence == 0) return Reject(RejectReason::kOutOfBounds);
      return DecodeResult{WireMessage(m)};
    }
    default:
      return Reject(RejectReason::kUnknownType);
  }
}

}  // namespace faultline::replication
