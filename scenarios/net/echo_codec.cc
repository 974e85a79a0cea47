// scenarios/net/echo_codec.cc — see echo_codec.h.
#include "scenarios/net/echo_codec.h"

#include "absl/status/status.h"
#include "core/base/check.h"
#include "core/base/crc32c.h"

namespace faultline::scenarios::net_echo {
namespace {

constexpr char kMagic[2] = {'E', '1'};
constexpr size_t kHeaderBytes = 2 + 1 + 1 + 1 + 4 + 4 + 2;
constexpr size_t kCrcBytes = 4;

void PutLittleEndian(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
}

uint64_t GetLittleEndian(std::string_view in, size_t offset, int bytes) {
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value |= uint64_t{static_cast<uint8_t>(in[offset + static_cast<size_t>(i)])} << (8 * i);
  }
  return value;
}

}  // namespace

std::string EncodeEchoFrame(const EchoFrame& frame) {
  FAULTLINE_CHECK(frame.body.size() <= kMaxEchoBodyBytes);
  std::string out(kMagic, sizeof(kMagic));
  PutLittleEndian(out, static_cast<uint8_t>(frame.type), 1);
  PutLittleEndian(out, frame.from, 1);
  PutLittleEndian(out, frame.to, 1);
  PutLittleEndian(out, frame.seq, 4);
  PutLittleEndian(out, frame.epoch, 4);
  PutLittleEndian(out, frame.body.size(), 2);
  out += frame.body;
  PutLittleEndian(out, base::MaskCrc(base::Crc32c(out)), 4);
  return out;
}

absl::StatusOr<EchoFrame> DecodeEchoFrame(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes + kCrcBytes) return absl::DataLossError("echo frame: too short");
  const std::string_view covered = bytes.substr(0, bytes.size() - kCrcBytes);
  const uint32_t stored = static_cast<uint32_t>(GetLittleEndian(bytes, covered.size(), 4));
  if (base::UnmaskCrc(stored) != base::Crc32c(covered)) {
    return absl::DataLossError("echo frame: checksum mismatch");
  }
  if (bytes.substr(0, 2) != std::string_view(kMagic, 2)) return absl::DataLossError("echo frame: bad magic");
  EchoFrame frame;
  const uint64_t type = GetLittleEndian(bytes, 2, 1);
  if (type != 1 && type != 2) return absl::DataLossError("echo frame: unknown type");
  frame.type = static_cast<EchoFrame::Type>(type);
  frame.from = static_cast<uint8_t>(GetLittleEndian(bytes, 3, 1));
  frame.to = static_cast<uint8_t>(GetLittleEndian(bytes, 4, 1));
  frame.seq = static_cast<uint32_t>(GetLittleEndian(bytes, 5, 4));
  frame.epoch = static_cast<uint32_t>(GetLittleEndian(bytes, 9, 4));
  const uint64_t body_bytes = GetLittleEndian(bytes, 13, 2);
  if (body_bytes > kMaxEchoBodyBytes || kHeaderBytes + body_bytes != covered.size()) {
    return absl::DataLossError("echo frame: body length does not match the frame");
  }
  frame.body = std::string(bytes.substr(kHeaderBytes, body_bytes));
  return frame;
}

}  // namespace faultline::scenarios::net_echo
