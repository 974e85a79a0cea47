// scenarios/net/echo_codec.h — the wire format of the net_echo scenario's
// messages: sequenced data and cumulative acknowledgements, each frame
// checksummed, because the simulated network delivers corrupted payloads
// (sim/network/sim_network.h) and a protocol must reject them itself.
//
// Frame (little endian): magic "E1" | type u8 | from u8 | to u8 | seq u32 |
// epoch u32 | body length u16 | body | masked CRC-32C of everything before.
// Decode refuses a short, long, unknown or mis-checksummed frame.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace faultline::scenarios::net_echo {

struct EchoFrame {
  enum class Type : uint8_t { kData = 1, kAck = 2 };
  Type type = Type::kData;
  uint8_t from = 0;    // node index of the sender
  uint8_t to = 0;      // node index of the receiver
  uint32_t seq = 0;    // data: its sequence; ack: the next sequence expected
  uint32_t epoch = 0;  // ack: the receiver's incarnation (a restart resets it)
  std::string body;    // data only

  bool operator==(const EchoFrame&) const = default;
};

inline constexpr size_t kMaxEchoBodyBytes = 1024;

std::string EncodeEchoFrame(const EchoFrame& frame);
absl::StatusOr<EchoFrame> DecodeEchoFrame(std::string_view bytes);

}  // namespace faultline::scenarios::net_echo
