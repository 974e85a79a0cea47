// bench/wal/compare_probes.cc — see compare_probes.h.
#include "bench/wal/compare_probes.h"

#include <fcntl.h>
#include <linux/magic.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "bench/common/steady_clock.h"
#include "bench/wal/compare_cells.h"
#include "core/base/check.h"

namespace faultline::bench::compare {

SyncProbe ProbeFdatasync(const std::string& dir) {
  const std::string path = dir + "/probe.bin";
  const int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  FAULTLINE_CHECK(fd >= 0);
  const std::string byte(1, 'p');
  std::vector<int64_t> latencies_ns;
  int64_t total_ns = 0;
  for (int i = 0; i < kFdatasyncProbes; ++i) {
    const int64_t start_ns = SteadyNowNs();
    PwriteAll(fd, byte, static_cast<uint64_t>(i));
    FAULTLINE_CHECK_MSG(fdatasync(fd) == 0, std::strerror(errno));
    latencies_ns.push_back(SteadyNowNs() - start_ns);
    total_ns += latencies_ns.back();
  }
  close(fd);
  unlink(path.c_str());
  SyncProbe probe;
  probe.mean_us = static_cast<double>(total_ns) / kFdatasyncProbes / 1e3;
  probe.p50_us = PercentileNs(latencies_ns, 0.50) / 1e3;
  probe.p99_us = PercentileNs(latencies_ns, 0.99) / 1e3;
  return probe;
}

AppendVsOverwrite ProbeAppendVsOverwrite(const std::string& dir, size_t bytes, int writes) {
  constexpr int kRounds = 3;
  const std::string data(bytes, 'a');
  auto timed_writes = [&](int fd) {
    const int64_t start_ns = SteadyNowNs();
    for (int i = 0; i < writes; ++i) {
      PwriteAll(fd, data, static_cast<uint64_t>(i) * bytes);
      FAULTLINE_CHECK_MSG(fdatasync(fd) == 0, std::strerror(errno));
    }
    return static_cast<double>(SteadyNowNs() - start_ns) / 1e3 / writes;
  };
  std::vector<double> append_us;
  std::vector<double> overwrite_us;
  for (int round = 0; round < kRounds; ++round) {
    const std::string path = dir + "/append-vs-overwrite.bin";
    int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
    FAULTLINE_CHECK(fd >= 0);
    append_us.push_back(timed_writes(fd));
    close(fd);
    unlink(path.c_str());
    fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
    FAULTLINE_CHECK(fd >= 0);
    PwriteAll(fd, std::string(bytes * static_cast<size_t>(writes), '\0'), 0);
    FAULTLINE_CHECK_MSG(fsync(fd) == 0, std::strerror(errno));
    overwrite_us.push_back(timed_writes(fd));
    close(fd);
    unlink(path.c_str());
  }
  return {bytes, Median(append_us), Median(overwrite_us)};
}

HopProbe ProbeRunBlocking(const posix::EventLoopOptions& loop_options) {
  constexpr int kHops = 2000;
  posix::EventLoop loop(loop_options);
  std::vector<int64_t> latencies_ns;
  latencies_ns.reserve(kHops);
  loop.StartFiber("hops", [&] {
    for (int i = 0; i < kHops; ++i) {
      const int64_t start_ns = loop.NowNs();
      loop.RunBlocking([] {});
      latencies_ns.push_back(loop.NowNs() - start_ns);
    }
  });
  loop.Run();
  HopProbe probe;
  probe.p50_us = PercentileNs(latencies_ns, 0.50) / 1e3;
  probe.p99_us = PercentileNs(latencies_ns, 0.99) / 1e3;
  return probe;
}

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

std::string LoadAverage() {
  double load[3] = {0, 0, 0};
  if (getloadavg(load, 3) != 3) return "unknown";
  return fmt::format("{:.2f} {:.2f} {:.2f}", load[0], load[1], load[2]);
}

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[64];
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S UTC", &utc);
  return text;
}

std::string FileSystemName(int64_t f_type) {
  switch (static_cast<uint64_t>(f_type) & 0xffffffffu) {
    case EXT4_SUPER_MAGIC: return "ext2/ext3/ext4";
    case XFS_SUPER_MAGIC: return "xfs";
    case BTRFS_SUPER_MAGIC: return "btrfs";
    case TMPFS_MAGIC: return "tmpfs";
    case RAMFS_MAGIC: return "ramfs";
    case OVERLAYFS_SUPER_MAGIC: return "overlayfs";
    case 0x2fc12fc1: return "zfs";
    case F2FS_SUPER_MAGIC: return "f2fs";
    default: break;
  }
  return "unknown";
}

}  // namespace faultline::bench::compare
