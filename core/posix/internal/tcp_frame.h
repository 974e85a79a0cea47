// core/posix/internal/tcp_frame.h — encoding and incremental decoding of the
// TCP frames described in core/posix/tcp_frame_format.md.
//
// Not API: used by tcp_network.cc, and by tests that speak the wire format.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace faultline::posix::internal {

inline constexpr uint32_t kFrameMagic = 0x31544C46u;  // "FLT1" read little-endian
inline constexpr size_t kFrameHeaderBytes = 12;       // magic, body_bytes, masked_crc
inline constexpr size_t kMaxAddressBytes = 255;
// The largest max_message_bytes a network may be configured with: keeps
// body_bytes well inside a u32.
inline constexpr size_t kMaxPayloadBytesLimit = size_t{1} << 30;

// Bytes of the frame for a sender address and payload of these sizes.
inline size_t FrameBytes(size_t from_bytes, size_t payload_bytes) {
  return kFrameHeaderBytes + 2 + from_bytes + payload_bytes;
}

// Encodes one frame (format: tcp_frame_format.md). `from` must be
// 1..kMaxAddressBytes long.
std::string EncodeFrame(std::string_view from, std::string_view payload);

// Splits a byte stream into frames. Bounded memory: a frame header is
// validated as soon as it is complete, so at most one frame of the largest
// allowed size plus one append chunk is ever buffered.
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  // Room for `size_bytes` more bytes; write into it, then CommitAppend.
  char* PrepareAppend(size_t size_bytes);
  void CommitAppend(size_t size_bytes);

  enum class Kind { kNeedMore, kFrame, kCorrupt };
  struct Result {
    Kind kind = Kind::kNeedMore;
    std::string from;      // kFrame
    std::string payload;   // kFrame
    std::string_view why;  // kCorrupt: which rule the frame broke
  };
  // The next complete frame, kNeedMore, or kCorrupt (after which the stream
  // is unusable: close the connection).
  Result Next();

  size_t buffered_bytes() const { return end_ - start_; }

 private:
  const size_t max_message_bytes_;
  std::string buffer_;
  size_t start_ = 0;     // first unconsumed byte
  size_t end_ = 0;       // one past the last valid byte
  size_t reserved_ = 0;  // bytes handed out by PrepareAppend
};

}  // namespace faultline::posix::internal
