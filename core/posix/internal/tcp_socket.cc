// core/posix/internal/tcp_socket.cc — see tcp_socket.h.
#include "core/posix/internal/tcp_socket.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/io/clock.h"

namespace faultline::posix::internal {
namespace {

bool IsLoopback(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
    return (ntohl(v4.sin_addr.s_addr) >> 24) == 127;
  }
  if (address.ss_family == AF_INET6) {
    const in6_addr& ip = reinterpret_cast<const sockaddr_in6&>(address).sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(&ip)) return true;
    return IN6_IS_ADDR_V4MAPPED(&ip) && ip.s6_addr[12] == 127;
  }
  return false;
}

}  // namespace

absl::StatusOr<SocketAddress> ParseAddress(std::string_view address) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad address \"", AsAbsl(address), "\": ", AsAbsl(why)));
  };
  const size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) return invalid("expected host:port");
  std::string_view host = address.substr(0, colon);
  // inet_pton stops at a NUL: "127.0.0.1\0junk" would parse as 127.0.0.1,
  // giving one host endless names.
  if (host.find('\0') != std::string_view::npos) return invalid("NUL in host");
  const std::string_view port_text = address.substr(colon + 1);
  unsigned port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() ||
      port > 65535) {
    return invalid("bad port");
  }
  SocketAddress parsed;
  parsed.port = static_cast<uint16_t>(port);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  parsed.host = std::string(host);
  const std::string numeric = host == "localhost" ? std::string("127.0.0.1") : std::string(host);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&parsed.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&parsed.storage);
  if (!bracketed && inet_pton(AF_INET, numeric.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(parsed.port);
    parsed.length = sizeof(sockaddr_in);
  } else if (bracketed && inet_pton(AF_INET6, numeric.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(parsed.port);
    parsed.length = sizeof(sockaddr_in6);
  } else {
    return invalid("host must be a numeric IPv4, a bracketed IPv6 address, or localhost");
  }
  return parsed;
}

std::string FormatAddress(const SocketAddress& address, uint16_t port) {
  const bool v6 = address.storage.ss_family == AF_INET6;
  return v6 ? absl::StrCat("[", address.host, "]:", port) : absl::StrCat(address.host, ":", port);
}

uint16_t PortOf(const sockaddr_storage& address) {
  return ntohs(address.ss_family == AF_INET6
                   ? reinterpret_cast<const sockaddr_in6&>(address).sin6_port
                   : reinterpret_cast<const sockaddr_in&>(address).sin_port);
}

std::string HostKey(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET6) {
    const in6_addr& ip = reinterpret_cast<const sockaddr_in6&>(address).sin6_addr;
    return std::string(reinterpret_cast<const char*>(&ip), sizeof(ip));
  }
  const in_addr& ip = reinterpret_cast<const sockaddr_in&>(address).sin_addr;
  return std::string(reinterpret_cast<const char*>(&ip), sizeof(ip));
}

std::string CapKey(const sockaddr_storage& address) {
  if (address.ss_family != AF_INET6) return HostKey(address);
  const in6_addr& ip = reinterpret_cast<const sockaddr_in6&>(address).sin6_addr;
  const char* bytes = reinterpret_cast<const char*>(&ip);
  if (IN6_IS_ADDR_V4MAPPED(&ip)) return std::string(bytes + 12, 4);
  return std::string(bytes, 8);
}

bool SameHost(const sockaddr_storage& claimed, const sockaddr_storage& source) {
  if (IsLoopback(claimed) && IsLoopback(source)) return true;
  return claimed.ss_family == source.ss_family && HostKey(claimed) == HostKey(source);
}

void SetNoDelay(int fd) {
  const int one = 1;
  // Frames are small and latency matters more than packet count.
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

void SetDeadPeerTimeouts(int fd, int64_t user_timeout_ns) {
  const auto user_timeout_ms = static_cast<unsigned>(
      std::clamp<int64_t>(user_timeout_ns / io::kNanosPerMilli, 1, int64_t{1} << 31));
  (void)setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof(user_timeout_ms));
  // Idle for a third of the timeout, then 3 probes over another third.
  const int idle_s = static_cast<int>(
      std::clamp<int64_t>(user_timeout_ns / 3 / io::kNanosPerSecond, 1, 32767));
  const int interval_s = std::max(1, idle_s / 3);
  const int probes = 3;
  const int one = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
  (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle_s, sizeof(idle_s));
  (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval_s, sizeof(interval_s));
  (void)setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &probes, sizeof(probes));
}

bool BindSource(int fd, const SocketAddress& local, const SocketAddress& remote) {
  if (local.storage.ss_family != remote.storage.ss_family) return true;
  sockaddr_storage source = local.storage;
  if (source.ss_family == AF_INET6) {
    reinterpret_cast<sockaddr_in6&>(source).sin6_port = 0;
  } else {
    reinterpret_cast<sockaddr_in&>(source).sin_port = 0;
  }
  const int one = 1;
  // The port is picked at connect time, per destination, so sources do not
  // run out of ephemeral ports.
  (void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
  return bind(fd, reinterpret_cast<const sockaddr*>(&source), local.length) == 0;
}

bool IsConnectedToItself(int fd) {
  sockaddr_storage local{};
  sockaddr_storage peer{};
  socklen_t local_length = sizeof(local);
  socklen_t peer_length = sizeof(peer);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length) != 0 ||
      getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) != 0) {
    return false;
  }
  return local_length == peer_length && local.ss_family == peer.ss_family &&
         PortOf(local) == PortOf(peer) && HostKey(local) == HostKey(peer);
}

void AbortOnClose(int fd) {
  const linger abort{.l_onoff = 1, .l_linger = 0};
  (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort, sizeof(abort));
}

}  // namespace faultline::posix::internal
