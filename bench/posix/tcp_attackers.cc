// bench/posix/tcp_attackers.cc — see tcp_attackers.h. Plain non-blocking
// sockets polled in rounds of 1 ms; no event loop, so the attacker's cost
// does not depend on the code under test.
#include "bench/posix/tcp_attackers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <vector>

#include "bench/common/steady_clock.h"
#include "core/posix/internal/frame_mac.h"
#include "core/posix/internal/tcp_frame.h"

namespace faultline::bench {
namespace {

enum class Kind { kIdle, kSlowloris, kGarbage, kForged, kFdFlood };

struct Attacker {
  Kind kind;
  int fd = -1;
  size_t progress = 0;  // bytes of `script` sent
  int64_t next_ns = 0;  // when to act next
};

int Connect(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 &&
      errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  return fd;
}

// Whether the receiver closed the connection (EOF or error).
bool Closed(int fd) {
  char scratch[256];
  const ssize_t got = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);
  return got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN);
}

// Sends up to `bytes` of `script` from the attacker's progress.
void SendSome(Attacker& attacker, const std::string& script, size_t bytes, AttackCounts& counts) {
  if (attacker.progress >= script.size()) attacker.progress = 0;
  const size_t want = std::min(bytes, script.size() - attacker.progress);
  const ssize_t put = send(attacker.fd, script.data() + attacker.progress, want, MSG_NOSIGNAL);
  if (put > 0) {
    attacker.progress += static_cast<size_t>(put);
    counts.bytes_sent += static_cast<uint64_t>(put);
  }
}

struct Scripts {
  std::string slowloris;  // a frame announcing ~1 MiB, under the wrong key
  std::string garbage;
  std::string forged;
};

// One step of one attacker; re-opens it when it has no connection.
void Step(Attacker& attacker, const AttackPlan& plan, const Scripts& scripts, int64_t now_ns,
          AttackCounts& counts) {
  if (attacker.fd >= 0 && (attacker.kind == Kind::kGarbage || Closed(attacker.fd))) {
    close(attacker.fd);
    attacker.fd = -1;
  }
  if (attacker.fd < 0) {
    attacker.fd = Connect(plan.port);
    attacker.progress = 0;
    if (attacker.fd < 0) {
      attacker.next_ns = now_ns + 10'000'000;  // out of descriptors: retry later
      return;
    }
    ++counts.connects;
  }
  switch (attacker.kind) {
    case Kind::kIdle:
    case Kind::kFdFlood:
      attacker.next_ns = now_ns + 100'000'000;
      break;
    case Kind::kSlowloris:
      // A burst the first time (buffers pinned), then a byte per 100 ms.
      SendSome(attacker, scripts.slowloris, attacker.progress == 0 ? 512 * 1024 : 1, counts);
      attacker.next_ns = now_ns + 100'000'000;
      break;
    case Kind::kGarbage:
      SendSome(attacker, scripts.garbage, scripts.garbage.size(), counts);
      attacker.next_ns = now_ns + 2'000'000;
      break;
    case Kind::kForged:
      SendSome(attacker, scripts.forged, scripts.forged.size(), counts);
      attacker.next_ns = now_ns + 2'000'000;
      break;
  }
}

}  // namespace

AttackCounts RunAttack(const AttackPlan& plan) {
  const posix::internal::FrameMac wrong_key("not-the-cluster-key-at-all-0123");
  Scripts scripts;
  scripts.slowloris = posix::internal::EncodeFrame(wrong_key, plan.impersonated,
                                                   std::string(1000 * 1000, 's'));
  scripts.garbage = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" + std::string(64, '\x7f');
  scripts.forged = posix::internal::EncodeFrame(wrong_key, plan.impersonated, "forged");
  std::vector<Attacker> attackers;
  auto add = [&](Kind kind, int count) {
    for (int i = 0; i < count; ++i) attackers.push_back(Attacker{.kind = kind});
  };
  add(Kind::kIdle, plan.idle);
  add(Kind::kSlowloris, plan.slowloris);
  add(Kind::kGarbage, plan.garbage);
  add(Kind::kForged, plan.forged);
  add(Kind::kFdFlood, plan.fd_flood);
  AttackCounts counts;
  const int64_t end_ns = SteadyNowNs() + plan.duration_ns;
  // Bounded by the duration: each round sleeps 1 ms.
  for (int64_t now_ns = SteadyNowNs(); now_ns < end_ns; now_ns = SteadyNowNs()) {
    for (Attacker& attacker : attackers) {
      if (attacker.next_ns <= now_ns) Step(attacker, plan, scripts, now_ns, counts);
    }
    usleep(1000);
  }
  for (Attacker& attacker : attackers) {
    if (attacker.fd < 0) continue;
    ++counts.open_at_end;
    close(attacker.fd);
  }
  return counts;
}

}  // namespace faultline::bench
