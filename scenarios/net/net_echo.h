// scenarios/net/net_echo.h — the simulated network's demo scenario.
//
// Three nodes each stream 24 sequenced, checksummed messages to each other
// node over the simulated network (sim/network), with a sliding window,
// cumulative acknowledgements that name the receiver's incarnation, and
// retransmission every 2 ms. Per seed the swarm chooses the links' latency
// distribution, drop / duplicate / reorder / delay / corrupt rates and
// partition, clog and message rules for the first 30 ms, while a nemesis
// crashes and restarts random nodes (each restart listens afresh and starts
// its streams over). Then every fault stops and every partition heals.
//
// Checkers: every message a node takes is one that was sent, byte for byte
// (a corrupted frame must be refused by the codec's checksum, and the count
// of refused frames must equal the count the network corrupted); an ack
// never names a sequence that was not sent; and within 1 s of the heal every
// stream reaches every live incarnation (a stall names the node and the
// sequence it waits for).
//
// NetEchoVariant is the seam through which tests run deliberately broken
// protocols (no checksum check, no retransmission, stale-epoch handling) to
// show that the checkers catch each; the registered scenario uses the
// defaults.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "scenarios/net/echo_codec.h"
#include "scenarios/scenario.h"

namespace faultline::scenarios {

struct NetEchoVariant {
  // Decodes a received frame (DecodeEchoFrame verifies the checksum).
  absl::StatusOr<net_echo::EchoFrame> (*decode)(std::string_view bytes) = net_echo::DecodeEchoFrame;
  // Resend the unacknowledged window every round (else each frame once).
  bool retransmit = true;
  // An ack from a newer incarnation of the receiver rewinds the stream to
  // what it expects (else acks only ever move it forward).
  bool rewind_on_restart = true;
};

ScenarioResult RunNetEcho(const ScenarioOptions& options, const NetEchoVariant& variant = {});
Scenario NetEchoScenario();

}  // namespace faultline::scenarios
