// core/posix/internal/tcp_shared.h — what every endpoint of one TcpNetwork
// shares: the loop, options, counters, the frame authenticator, and the
// descriptor budget that keeps sockets from starving the rest of the
// process (TcpNetworkOptions::reserved_fds).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/base/check.h"
#include "core/posix/event_loop.h"
#include "core/posix/internal/frame_mac.h"
#include "core/posix/tcp_network.h"

namespace faultline::posix::internal {

class TcpInbound;

class TcpShared {
 public:
  // `fd_limit`: the process's RLIMIT_NOFILE soft limit.
  TcpShared(EventLoop& event_loop, const TcpNetworkOptions& network_options, size_t fd_limit)
      : loop(event_loop),
        options(network_options),
        fd_budget(fd_limit > network_options.reserved_fds ? fd_limit - network_options.reserved_fds
                                                          : 0) {}

  EventLoop& loop;
  const TcpNetworkOptions options;
  TcpStats stats;
  // Set once the key was accepted (TcpNetwork::Listen checks it); frames
  // are only encoded and decoded by endpoints, which exist only after that.
  std::unique_ptr<const FrameMac> mac;
  const size_t fd_budget;  // sockets the network may hold at once
  // The receiving sides of live endpoints, oldest first: when the inbound
  // half of the budget is spent, one endpoint may evict another's
  // unauthenticated connections (TcpInbound registers itself).
  std::vector<TcpInbound*> inbounds;

  // Whether one more socket of that kind fits the budget. Inbound
  // connections of all endpoints together get at most half of it.
  bool MayOpenSocket() const { return sockets_open_ < fd_budget; }
  bool MayAcceptInbound() const { return MayOpenSocket() && inbound_open_ < fd_budget / 2; }

  void SocketOpened(bool inbound) {
    ++sockets_open_;
    if (inbound) ++inbound_open_;
  }
  void SocketClosed(bool inbound) {
    FAULTLINE_CHECK(sockets_open_ > 0 && (!inbound || inbound_open_ > 0));
    --sockets_open_;
    if (inbound) --inbound_open_;
  }

 private:
  size_t sockets_open_ = 0;
  size_t inbound_open_ = 0;
};

}  // namespace faultline::posix::internal
