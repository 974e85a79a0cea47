// core/posix/internal/tcp_socket.h — addresses and socket set-up for the TCP
// network: parsing "host:port", comparing a claimed host with a
// connection's source, and the options outbound sockets get.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace faultline::posix::internal {

// A parsed "host:port".
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string host;  // as written, without brackets
  uint16_t port = 0;
};

// InvalidArgument unless `address` is a numeric IPv4 host, a bracketed
// numeric IPv6 host or "localhost", then ':' and a port.
absl::StatusOr<SocketAddress> ParseAddress(std::string_view address);
// "host:port" (IPv6 hosts bracketed) for `address`'s host and `port`.
std::string FormatAddress(const SocketAddress& address, uint16_t port);
uint16_t PortOf(const sockaddr_storage& address);

// The IP of `address` as raw bytes (4 or 16).
std::string HostKey(const sockaddr_storage& address);
// The key connections from one source host are capped under: the IPv4
// address (an IPv4-mapped IPv6 one too), else the IPv6 /64 prefix, since
// one host commonly owns a whole /64 and could otherwise take 2^64 caps.
std::string CapKey(const sockaddr_storage& address);
// Whether a frame that claims `claimed` may come from a connection whose
// source is `source`: the same IP, or both loopback (a host's endpoints may
// reach each other over either family's loopback).
bool SameHost(const sockaddr_storage& claimed, const sockaddr_storage& source);

// Outbound socket set-up. Failures only cost latency or detection time, so
// they are ignored, except BindSource's.
void SetNoDelay(int fd);
// TCP_USER_TIMEOUT, and keepalive probes that give up within about
// `user_timeout_ns` while nothing is sent.
void SetDeadPeerTimeouts(int fd, int64_t user_timeout_ns);
// Binds an unconnected socket to `local`'s IP (port chosen at connect), so
// receivers see the host the frames claim. No-op when the families differ.
bool BindSource(int fd, const SocketAddress& local, const SocketAddress& remote);
// Whether a connected socket reached itself (its local and peer addresses
// are equal): TCP simultaneous open when the destination port was free and
// the kernel picked it as the source port.
bool IsConnectedToItself(int fd);
// Makes close() reset the connection instead of a graceful close, so the
// local port is free at once (no TIME_WAIT).
void AbortOnClose(int fd);

}  // namespace faultline::posix::internal
