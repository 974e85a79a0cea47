// bench/posix/tcp_attackers.h — misbehaving TCP peers for the load benchmark,
// run in a separate process (own descriptor table, own CPU time) against
// one 127.0.0.1 port:
//   idle       connections that never send a byte;
//   slowloris  a valid-looking header announcing a large frame, a burst of
//              its body, then one byte every 100 ms;
//   garbage    connect, send junk, close, again;
//   forged     frames under the wrong key that claim a well-behaved
//              sender's address;
//   fd flood   as many idle connections as the attacker's own descriptor
//              limit allows, re-opened as the receiver closes them.
// Every closed connection is re-opened on the next round. Bounded in time
// (the duration given) and in connections (the counts below).
#pragma once

#include <cstdint>
#include <string>

namespace faultline::bench {

struct AttackPlan {
  uint16_t port = 0;           // on 127.0.0.1
  std::string impersonated;    // `from` of the forged frames
  int64_t duration_ns = 0;
  int idle = 64;
  int slowloris = 32;
  int garbage = 8;
  int forged = 8;
  int fd_flood = 2000;
};

struct AttackCounts {
  uint64_t connects = 0;  // connections opened, over all kinds
  uint64_t bytes_sent = 0;
  int open_at_end = 0;
};

// Runs the plan in the calling process until its duration passed.
AttackCounts RunAttack(const AttackPlan& plan);

}  // namespace faultline::bench
