// tests/core/posix/tcp_fd_limit_test.cc — TcpNetwork when peers try to take
// every file descriptor. Each test forks a child that lowers its own
// RLIMIT_NOFILE and runs the network; the parent floods it with loopback
// connections from its own (separate) descriptor table. The child reports
// through its exit code; everything is bounded in count and time.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <vector>

#include "absl/functional/function_ref.h"
#include "core/posix/event_loop.h"
#include "core/posix/tcp_network.h"
#include "tests/core/posix/tcp_test_util.h"

namespace faultline::posix {
namespace {

constexpr int kFloodConnections = 150;

enum ChildExit : int {
  kChildOk = 0,
  kChildSetupFailed = 10,
  kChildFilesFailed = 11,  // could not open files after the flood
  kChildSpun = 12,         // kept retrying accept while out of descriptors
};

// The child's side: `body` gets a write end (send the listen port) and a
// read end (one byte: the flood is in), and returns a ChildExit.
using ChildBody = absl::FunctionRef<int(int to_parent, int from_parent)>;

// Connects kFloodConnections non-blocking sockets to 127.0.0.1:port; the
// kernel completes them from the listen backlog whatever the child does.
std::vector<int> Flood(uint16_t port) {
  std::vector<int> fds;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  for (int i = 0; i < kFloodConnections; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) break;
    (void)connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    fds.push_back(fd);
  }
  return fds;
}

// Forks, runs `body` in the child under the flood, returns the child's exit
// code (-1 if it died of a signal or took longer than 30 s).
int RunChildUnderFlood(ChildBody body) {
  int up[2];
  int down[2];
  if (pipe(up) != 0 || pipe(down) != 0) return -1;
  const pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    close(up[0]);
    close(down[1]);
    _exit(body(up[1], down[0]));
  }
  close(up[1]);
  close(down[0]);
  uint16_t port = 0;
  std::vector<int> flood;
  if (read(up[0], &port, sizeof(port)) == sizeof(port)) flood = Flood(port);
  const char go = 'g';
  (void)write(down[1], &go, 1);
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 3000 && done == 0; ++i) {  // 30 s at most
    done = waitpid(pid, &status, WNOHANG);
    if (done == 0) usleep(10'000);
  }
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
  }
  for (int fd : flood) close(fd);
  close(up[0]);
  close(down[1]);
  return (done == pid && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
}

bool LowerFdLimit(rlim_t limit) {
  const rlimit lowered{limit, limit};
  return setrlimit(RLIMIT_NOFILE, &lowered) == 0;
}

// Listens, tells the parent the port, waits for the flood, then runs `then`
// on the loop; returns its exit code.
int ListenThen(EventLoop& loop, TcpNetwork& network, int to_parent, int from_parent,
               absl::FunctionRef<int()> then) {
  int code = kChildSetupFailed;
  loop.StartFiber("child", [&] {
    auto endpoint = network.Listen("127.0.0.1:0");
    if (!endpoint.ok()) return;
    const uint16_t port = testing::PortOf((*endpoint)->address());
    char go = 0;
    if (write(to_parent, &port, sizeof(port)) != sizeof(port) ||
        read(from_parent, &go, 1) != 1) {
      return;
    }
    code = then();
  });
  loop.Run();
  return code;
}

TEST(TcpFdLimitTest, AConnectionFloodLeavesDescriptorsForFiles) {
  const int code = RunChildUnderFlood([](int to_parent, int from_parent) {
    if (!LowerFdLimit(128)) return static_cast<int>(kChildSetupFailed);
    EventLoop loop;
    TcpNetworkOptions options = testing::TestOptions();
    options.reserved_fds = 48;
    // Only the descriptor budget may bound the flood here, not the other
    // caps: as many inbound connections as the old default, and no per-host
    // limit below the flood.
    options.max_inbound_connections = 1024;
    options.max_unauthenticated_per_host = 1024;
    TcpNetwork network(loop, options);
    return ListenThen(loop, network, to_parent, from_parent, [&] {
      const TcpStats& stats = network.stats();
      for (int i = 0; i < 500; ++i) {  // 5 s at most for the flood to arrive
        if (stats.connections_accepted + stats.connections_refused >= kFloodConnections - 20) break;
        loop.SleepFor(10 * io::kNanosPerMilli);
      }
      std::vector<int> files;
      for (int i = 0; i < 40; ++i) {
        const int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) files.push_back(fd);
      }
      const bool all_opened = files.size() == 40;
      for (int fd : files) close(fd);
      return static_cast<int>(all_opened ? kChildOk : kChildFilesFailed);
    });
  });
  EXPECT_EQ(code, kChildOk) << "11: files could not be opened after the flood";
}

TEST(TcpFdLimitTest, OutOfDescriptorsPausesAccepting) {
  const int code = RunChildUnderFlood([](int to_parent, int from_parent) {
    if (!LowerFdLimit(64)) return static_cast<int>(kChildSetupFailed);
    EventLoop loop;
    TcpNetworkOptions options = testing::TestOptions();
    options.reserved_fds = 16;
    options.accept_pause_ns = 50 * io::kNanosPerMilli;
    TcpNetwork network(loop, options);
    return ListenThen(loop, network, to_parent, from_parent, [&] {
      // Under the sanitizers, the first checked call of a kind needs a
      // descriptor (the runtime probes memory through a pipe): make it now.
      loop.SleepFor(io::kNanosPerMilli);
      // Something else in the process took every descriptor.
      std::vector<int> hogs;
      for (int i = 0; i < 100; ++i) {
        const int fd = dup(0);
        if (fd < 0) break;
        hogs.push_back(fd);
      }
      // 200 ms with connections pending and no descriptor to accept them:
      // a paused listener retries about 4 times, a spinning one thousands.
      loop.SleepFor(200 * io::kNanosPerMilli);
      const uint64_t failures = network.stats().accept_failures;
      for (int fd : hogs) close(fd);
      return static_cast<int>(failures >= 1 && failures <= 10 ? kChildOk : kChildSpun);
    });
  });
  EXPECT_EQ(code, kChildOk) << "12: the loop kept retrying accept";
}

}  // namespace
}  // namespace faultline::posix
