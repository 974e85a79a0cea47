// core/posix/internal/tcp_frame.h — encoding and incremental decoding of the
// TCP frames described in core/posix/tcp_frame_format.md.
//
// Not API: used by the TCP network, and by tests that speak the wire format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/posix/internal/frame_mac.h"

namespace faultline::posix::internal {

inline constexpr uint32_t kFrameMagic = 0x32544C46u;  // "FLT2" read little-endian
inline constexpr size_t kFrameHeaderBytes = 12;       // magic, body_bytes, masked_crc
inline constexpr size_t kMaxAddressBytes = 255;
// The largest max_message_bytes a network may be configured with: keeps
// body_bytes well inside a u32.
inline constexpr size_t kMaxPayloadBytesLimit = size_t{1} << 30;
// A decoder with nothing buffered keeps at most this much allocated.
inline constexpr size_t kIdleDecoderCapacityBytes = 4096;

// Bytes of the frame for a sender address and payload of these sizes.
inline size_t FrameBytes(size_t from_bytes, size_t payload_bytes) {
  return kFrameHeaderBytes + 2 + from_bytes + payload_bytes + kFrameTagBytes;
}

// Encodes one frame (format: tcp_frame_format.md), tagged under `mac`.
// `from` must be 1..kMaxAddressBytes long.
std::string EncodeFrame(const FrameMac& mac, std::string_view from, std::string_view payload);

// Splits a byte stream into frames. Bounded memory: a frame header is
// validated as soon as it is complete, so at most one frame of the largest
// allowed size plus one appended chunk is ever buffered, and the buffer is
// released when a frame is consumed and nothing else is buffered.
class FrameDecoder {
 public:
  FrameDecoder(size_t max_message_bytes, const FrameMac& mac)
      : max_message_bytes_(max_message_bytes), mac_(mac) {}

  void Append(const char* data, size_t size_bytes);

  enum class Kind { kNeedMore, kFrame, kCorrupt, kForged };
  struct Result {
    Kind kind = Kind::kNeedMore;
    std::string from;      // kFrame
    std::string payload;   // kFrame
    std::string_view why;  // kCorrupt / kForged: which rule the frame broke
  };
  // The next complete frame, kNeedMore, kCorrupt (bad framing or checksum)
  // or kForged (wrong tag: not from a holder of the cluster key); after
  // kCorrupt or kForged the stream is unusable: close the connection.
  Result Next();

  size_t buffered_bytes() const { return end_ - start_; }
  size_t capacity_bytes() const { return buffer_.capacity(); }

 private:
  const size_t max_message_bytes_;
  const FrameMac& mac_;
  std::string buffer_;
  size_t start_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last valid byte
};

}  // namespace faultline::posix::internal
