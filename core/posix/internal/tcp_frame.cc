// core/posix/internal/tcp_frame.cc — see tcp_frame.h.
#include "core/posix/internal/tcp_frame.h"

#include <cstring>

#include "core/base/check.h"
#include "core/base/crc32c.h"

namespace faultline::posix::internal {
namespace {

void PutU32(char* out, uint32_t value) {
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFFu);
}
void PutU16(char* out, uint16_t value) {
  out[0] = static_cast<char>(value & 0xFFu);
  out[1] = static_cast<char>(value >> 8);
}
uint32_t GetU32(const char* in) {
  uint32_t value = 0;
  for (int i = 3; i >= 0; --i) value = (value << 8) | static_cast<unsigned char>(in[i]);
  return value;
}
uint16_t GetU16(const char* in) {
  return static_cast<uint16_t>(static_cast<unsigned char>(in[0]) |
                               (static_cast<unsigned char>(in[1]) << 8));
}

// CRC over the body_bytes field and the body.
uint32_t FrameCrc(const char* body_bytes_field, const char* body, size_t body_bytes) {
  return base::MaskCrc(
      base::Crc32cExtend(base::Crc32cExtend(0, body_bytes_field, 4), body, body_bytes));
}

}  // namespace

std::string EncodeFrame(const FrameMac& mac, std::string_view from, std::string_view payload) {
  FAULTLINE_CHECK(!from.empty() && from.size() <= kMaxAddressBytes);
  FAULTLINE_CHECK(payload.size() <= kMaxPayloadBytesLimit);
  const size_t body_bytes = 2 + from.size() + payload.size();
  std::string frame(FrameBytes(from.size(), payload.size()), '\0');
  char* out = frame.data();
  PutU32(out, kFrameMagic);
  PutU32(out + 4, static_cast<uint32_t>(body_bytes));
  PutU16(out + 12, static_cast<uint16_t>(from.size()));
  std::memcpy(out + 14, from.data(), from.size());
  if (!payload.empty()) std::memcpy(out + 14 + from.size(), payload.data(), payload.size());
  PutU32(out + 8, FrameCrc(out + 4, out + kFrameHeaderBytes, body_bytes));
  const size_t tagged_bytes = kFrameHeaderBytes + body_bytes;
  mac.Sign(std::string_view(out, tagged_bytes), out + tagged_bytes);
  return frame;
}

void FrameDecoder::Append(const char* data, size_t size_bytes) {
  // Move the unconsumed tail to the front before growing, so the buffer
  // stays about one frame plus one chunk long.
  if (start_ > 0) {
    std::memmove(buffer_.data(), buffer_.data() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  buffer_.resize(end_);
  buffer_.append(data, size_bytes);
  end_ += size_bytes;
}

FrameDecoder::Result FrameDecoder::Next() {
  Result result;
  const size_t available = end_ - start_;
  if (available < kFrameHeaderBytes) return result;
  const char* header = buffer_.data() + start_;
  auto broken = [&](Kind kind, std::string_view why) {
    result.kind = kind;
    result.why = why;
    return result;
  };
  if (GetU32(header) != kFrameMagic) return broken(Kind::kCorrupt, "bad magic");
  const uint32_t body_bytes = GetU32(header + 4);
  if (body_bytes < 3 || body_bytes > 2 + kMaxAddressBytes + max_message_bytes_) {
    return broken(Kind::kCorrupt, "body length out of bounds");
  }
  const size_t tagged_bytes = kFrameHeaderBytes + body_bytes;
  if (available < tagged_bytes + kFrameTagBytes) return result;  // need more
  const char* body = header + kFrameHeaderBytes;
  if (GetU32(header + 8) != FrameCrc(header + 4, body, body_bytes)) {
    return broken(Kind::kCorrupt, "checksum mismatch");
  }
  if (!mac_.Verify(std::string_view(header, tagged_bytes), header + tagged_bytes)) {
    return broken(Kind::kForged, "authentication tag mismatch");
  }
  const uint16_t from_bytes = GetU16(body);
  if (from_bytes < 1 || from_bytes > kMaxAddressBytes || size_t{2} + from_bytes > body_bytes) {
    return broken(Kind::kCorrupt, "bad sender address length");
  }
  const size_t payload_bytes = body_bytes - 2 - from_bytes;
  if (payload_bytes > max_message_bytes_) return broken(Kind::kCorrupt, "payload too large");
  result.kind = Kind::kFrame;
  result.from.assign(body + 2, from_bytes);
  result.payload.assign(body + 2 + from_bytes, payload_bytes);
  start_ += tagged_bytes + kFrameTagBytes;
  if (start_ == end_) {
    start_ = end_ = 0;
    // An idle connection should not keep a large frame's buffer.
    if (buffer_.capacity() > kIdleDecoderCapacityBytes) std::string().swap(buffer_);
  }
  return result;
}

}  // namespace faultline::posix::internal
