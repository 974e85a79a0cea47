// core/replication/wire.h — the replication messages and their wire codec.
//
// Every message travels as one io::Network payload: a fixed 24-byte header
// (magic, version, type, stream id, body length, masked CRC-32C) and a body
// whose layout depends on the type. The exact layout is in PROTOCOL.md.
//
// Decode() never trusts its input: a frame that is too short, too long,
// of another version or stream, with a bad checksum, an unknown type, a
// body whose fields disagree with its length, or entries out of bounds is
// rejected with a RejectReason and never yields a message. Callers count
// rejections (WireRejects) and drop the frame; nothing here aborts on input.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace faultline::replication {

inline constexpr uint32_t kWireMagic = 0x50524C46;  // "FLRP" little-endian
inline constexpr uint8_t kWireVersion = 1;
inline constexpr size_t kHeaderBytes = 24;
// Fixed part of an Append body, and the length prefix of each entry.
inline constexpr size_t kAppendFixedBytes = 28;
inline constexpr size_t kEntryPrefixBytes = 4;
inline constexpr size_t kAckBodyBytes = 8;
inline constexpr size_t kResendBodyBytes = 16;

enum class MessageType : uint8_t {
  kAppend = 1,  // leader -> follower: entries (possibly none) and the commit index
  kAck = 2,     // follower -> leader: everything through durable_sequence is durable
  kResend = 3,  // follower -> leader: a gap; send again from from_sequence
};

// Leader -> follower. Entry i has sequence first_sequence + i. With no
// entries it is a heartbeat: it still carries the commit index and tells
// the follower how far the leader's durable log reaches.
struct AppendMsg {
  uint64_t first_sequence = 1;
  uint64_t commit_sequence = 0;          // leader's commit index
  uint64_t leader_durable_sequence = 0;  // last durable record in the leader's log
  std::vector<std::string> entries;
};

struct AckMsg {
  uint64_t durable_sequence = 0;
};

struct ResendMsg {
  uint64_t from_sequence = 1;
  uint64_t durable_sequence = 0;
};

using WireMessage = std::variant<AppendMsg, AckMsg, ResendMsg>;

// Bounds both sides agree on. A decoder refuses anything beyond them.
struct WireLimits {
  uint64_t stream_id = 0;            // a replication group; frames of another are rejected
  size_t max_frame_bytes = 1 << 20;  // whole frame, header included
  uint32_t max_entries = 4096;       // per Append
  uint32_t max_entry_bytes = 1 << 20;
};

enum class RejectReason : uint8_t {
  kTooShort = 0,     // shorter than a header
  kTooLong,          // longer than max_frame_bytes
  kBadMagic,
  kWrongVersion,
  kWrongStream,
  kBadLength,        // header's body length disagrees with the frame
  kBadChecksum,
  kUnknownType,
  kMalformedBody,    // fields inconsistent with the body length, reserved bits set
  kOutOfBounds,      // too many entries, empty or oversized entry, sequence overflow
};
inline constexpr size_t kRejectReasonCount = 10;
std::string_view RejectReasonName(RejectReason reason);

// Rejected frames by reason (cumulative).
struct WireRejects {
  std::array<uint64_t, kRejectReasonCount> by_reason{};
  uint64_t total() const;
  void Count(RejectReason reason) { ++by_reason[static_cast<size_t>(reason)]; }
};

// The frame bytes of `message`. The caller keeps within the limits (a
// checked error otherwise: an oversized frame is a bug of the sender).
std::string Encode(const WireMessage& message, const WireLimits& limits);

// Encoded size of an Append holding entries of these total payload bytes.
inline size_t AppendFrameBytes(size_t entry_count, size_t payload_bytes) {
  return kHeaderBytes + kAppendFixedBytes + entry_count * kEntryPrefixBytes + payload_bytes;
}

// Either a message or why the frame was refused.
struct DecodeResult {
  bool ok() const { return std::holds_alternative<WireMessage>(value); }
  std::variant<WireMessage, RejectReason> value;
};
DecodeResult Decode(std::string_view frame, const WireLimits& limits);

}  // namespace faultline::replication
