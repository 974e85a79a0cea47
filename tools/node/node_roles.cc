// tools/node/node_roles.cc — leader, follower and verify on the real world.
#include "tools/node/node_roles.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "core/posix/event_loop.h"
#include "core/posix/posix_file_system.h"
#include "core/posix/tcp_network.h"
#include "core/replication/follower.h"
#include "core/replication/leader.h"
#include "core/runtime/spawn.h"
#include "core/wal/wal.h"

namespace faultline::node {
namespace {

constexpr char kWalDir[] = "wal";
// Every node's WAL accepts the largest record a leader may be asked for,
// so that a follower never refuses what its leader holds.
constexpr uint32_t kWalMaxRecordBytes = 512 << 10;

void Fail(const std::string& message) { std::fprintf(stderr, "faultline-node: %s\n", message.c_str()); }

absl::StatusOr<std::string> ReadKey(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read --key-file ", path));
  std::stringstream bytes;
  bytes << in.rdbuf();
  std::string key = bytes.str();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  if (key.size() < posix::TcpNetworkOptions::kMinClusterKeyBytes) {
    return absl::InvalidArgumentError(absl::StrCat("--key-file ", path, " holds fewer than ",
                                                   posix::TcpNetworkOptions::kMinClusterKeyBytes,
                                                   " bytes"));
  }
  return key;
}

wal::WalOptions NodeWalOptions() {
  wal::WalOptions options;
  options.max_record_bytes = kWalMaxRecordBytes;
  return options;
}

// The world of one node: loop, files under `dir`, and its WAL.
struct World {
  posix::EventLoop loop;
  std::unique_ptr<posix::PosixFileSystem> fs;
};

absl::Status OpenFs(World& world, const std::string& dir) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", error.message()));
  auto fs = posix::PosixFileSystem::Open(world.loop, dir);
  if (!fs.ok()) return fs.status();
  world.fs = std::move(*fs);
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<wal::Wal>> OpenWal(World& world) {
  absl::StatusOr<bool> exists = world.fs->Exists(kWalDir);
  if (!exists.ok()) return exists.status();
  if (!*exists) {
    FAULTLINE_RETURN_IF_ERROR(world.fs->CreateDir(kWalDir));
  }
  return wal::Wal::Open(*world.fs, world.loop, kWalDir, NodeWalOptions());
}

// Record i's payload: its index, then bytes that vary with it.
std::string Payload(uint64_t index, uint32_t size_bytes) {
  std::string payload = absl::StrCat("record-", index, ":");
  uint64_t x = index * 0x9e3779b97f4a7c15ull + 1;
  while (payload.size() < size_bytes) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    payload.push_back(static_cast<char>(x & 0xff));
  }
  payload.resize(size_bytes);
  return payload;
}

int64_t Percentile(std::vector<int64_t>& values, double p) {
  if (values.empty()) return 0;
  const size_t at = std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  std::nth_element(values.begin(), values.begin() + static_cast<long>(at), values.end());
  return values[at];
}

// Runs `body` as the loop's first fiber; returns its exit code.
int RunOnLoop(World& world, absl::AnyInvocable<int() &&> body) {
  int code = 1;
  world.loop.StartFiber("main", [&] { code = std::move(body)(); });
  world.loop.Run();
  return code;
}

}  // namespace

namespace {

struct StreamResult {
  uint64_t committed = 0;  // records whose Append (or durability) returned OK
  std::vector<int64_t> latencies_ns;
  absl::Status error;
};

// `append` appends one record and waits for it (committed, or durable for
// the WAL alone); `appenders` fibers share args.records records.
StreamResult Stream(World& world, const NodeArgs& args,
                    const std::function<absl::Status(const std::string&)>& append) {
  StreamResult result;
  result.latencies_ns.reserve(args.records);
  uint64_t next_index = 0;
  std::vector<runtime::JoinHandle> fibers;
  for (uint32_t a = 0; a < args.appenders; ++a) {
    fibers.push_back(runtime::Spawn(world.loop, "appender", [&] {
      while (next_index < args.records && result.error.ok()) {
        const std::string payload = Payload(next_index++, args.record_bytes);
        const int64_t start_ns = world.loop.NowNs();
        absl::Status status = append(payload);
        if (!status.ok()) {
          if (result.error.ok()) result.error = status;
          return;
        }
        result.latencies_ns.push_back(world.loop.NowNs() - start_ns);
        ++result.committed;
      }
    }));
  }
  for (runtime::JoinHandle& fiber : fibers) fiber.Join();
  return result;
}

void PrintSummary(const char* mode, StreamResult& result, int64_t elapsed_ns) {
  const double seconds = static_cast<double>(elapsed_ns) / 1e9;
  const int64_t p50_us = Percentile(result.latencies_ns, 0.50) / 1000;
  const int64_t p99_us = Percentile(result.latencies_ns, 0.99) / 1000;
  std::printf("%s: records=%llu seconds=%.3f records_per_s=%.0f p50_us=%lld p99_us=%lld\n", mode,
              static_cast<unsigned long long>(result.committed), seconds,
              seconds > 0 ? static_cast<double>(result.committed) / seconds : 0.0,
              static_cast<long long>(p50_us), static_cast<long long>(p99_us));
  std::fflush(stdout);
}

int LeaderMain(World& world, posix::TcpNetwork& network, const NodeArgs& args) {
  auto wal = OpenWal(world);
  if (!wal.ok()) return Fail(absl::StrCat("open the WAL: ", wal.status().ToString())), 1;
  const int64_t deadline_ns = runtime::DeadlineAfter(world.loop.NowNs(), args.timeout_ns);
  if (args.wal_only) {
    const int64_t start_ns = world.loop.NowNs();
    StreamResult result = Stream(world, args, [&](const std::string& payload) {
      absl::StatusOr<wal::AppendResult> appended = (*wal)->Append(payload);
      if (!appended.ok()) return appended.status();
      return appended->durable.Get().status();
    });
    PrintSummary("wal-only", result, world.loop.NowNs() - start_ns);
    const absl::Status closed = (*wal)->Close();
    if (!result.error.ok() || !closed.ok()) {
      return Fail(result.error.ok() ? closed.ToString() : result.error.ToString()), 1;
    }
    return 0;
  }
  auto endpoint = network.Listen(args.listen);
  if (!endpoint.ok()) return Fail(absl::StrCat("listen: ", endpoint.status().ToString())), 1;
  auto leader = replication::Leader::Create(world.loop, **wal, **endpoint,
                                            network.max_message_bytes(), kWalMaxRecordBytes,
                                            args.followers, replication::LeaderOptions{});
  if (!leader.ok()) return Fail(leader.status().ToString()), 1;
  (*leader)->Start();
  const int64_t start_ns = world.loop.NowNs();
  StreamResult result = Stream(world, args, [&](const std::string& payload) {
    return (*leader)->Append(payload, deadline_ns).status();
  });
  PrintSummary("replicated", result, world.loop.NowNs() - start_ns);
  // Stay until every follower holds the whole log, and a few heartbeats
  // longer so that each learns the final commit index.
  const uint64_t last = (*wal)->durable_sequence();
  bool all_acked = false;
  while (result.error.ok() && !all_acked && world.loop.NowNs() < deadline_ns) {
    all_acked = true;
    for (const auto& peer : (*leader)->peers()) all_acked &= peer.acked_sequence >= last;
    if (!all_acked) world.loop.SleepFor(10 * io::kNanosPerMilli);
  }
  if (all_acked) world.loop.SleepFor(4 * replication::FlowOptions{}.heartbeat_interval_ns);
  (*leader)->Stop();
  std::printf("leader: last=%llu commit=%llu rejects=%llu\n", static_cast<unsigned long long>(last),
              static_cast<unsigned long long>((*leader)->commit_sequence()),
              static_cast<unsigned long long>((*leader)->stats().rejects.total()));
  std::fflush(stdout);
  leader->reset();
  const absl::Status closed = (*wal)->Close();
  if (!result.error.ok()) return Fail(absl::StrCat("append: ", result.error.ToString())), 1;
  if (!all_acked) return Fail("timed out waiting for the followers"), 1;
  if (!closed.ok()) return Fail(closed.ToString()), 1;
  return 0;
}

int FollowerMain(World& world, posix::TcpNetwork& network, const NodeArgs& args) {
  auto wal = OpenWal(world);
  if (!wal.ok()) return Fail(absl::StrCat("open the WAL: ", wal.status().ToString())), 1;
  auto endpoint = network.Listen(args.listen);
  if (!endpoint.ok()) return Fail(absl::StrCat("listen: ", endpoint.status().ToString())), 1;
  // Gap-free apply, checked as it happens: each entry handed to the WAL is
  // the next sequence after the durable position this incarnation resumed at.
  const uint64_t resumed_at = (*wal)->durable_sequence();
  uint64_t next_apply = resumed_at + 1;
  uint64_t gaps = 0;
  replication::FollowerOptions options;
  options.on_append = [&](uint64_t sequence, std::string_view) {
    if (sequence != next_apply) ++gaps;
    next_apply = sequence + 1;
  };
  auto follower = replication::Follower::Create(world.loop, **wal, **endpoint, args.leader,
                                                std::move(options));
  if (!follower.ok()) return Fail(follower.status().ToString()), 1;
  (*follower)->Start();
  const int64_t deadline_ns = runtime::DeadlineAfter(world.loop.NowNs(), args.timeout_ns);
  bool done = false;
  while (!done && (*follower)->health().ok() && world.loop.NowNs() < deadline_ns) {
    world.loop.SleepFor(10 * io::kNanosPerMilli);
    done = args.exit_at_committed > 0 &&
           (*follower)->committed_sequence() >= args.exit_at_committed;
  }
  (*follower)->Stop();
  const replication::FollowerStats stats = (*follower)->stats();
  std::printf("follower: resumed_at=%llu durable=%llu committed=%llu gaps=%llu rejects=%llu "
              "skipped=%llu resends=%llu\n",
              static_cast<unsigned long long>(resumed_at),
              static_cast<unsigned long long>((*follower)->durable_sequence()),
              static_cast<unsigned long long>((*follower)->committed_sequence()),
              static_cast<unsigned long long>(gaps),
              static_cast<unsigned long long>(stats.rejects.total()),
              static_cast<unsigned long long>(stats.apply.entries_skipped),
              static_cast<unsigned long long>(stats.apply.resends_requested));
  std::fflush(stdout);
  const absl::Status health = (*follower)->health();
  follower->reset();
  const absl::Status closed = (*wal)->Close();
  if (!health.ok()) return Fail(absl::StrCat("the WAL failed: ", health.ToString())), 1;
  if (gaps > 0) return Fail("applied out of sequence"), 1;
  if (!done && args.exit_at_committed > 0) return Fail("timed out before the commit target"), 1;
  if (!closed.ok()) return Fail(closed.ToString()), 1;
  return 0;
}

absl::StatusOr<std::vector<wal::Record>> ReadLog(const std::string& dir) {
  World world;
  FAULTLINE_RETURN_IF_ERROR(OpenFs(world, dir));
  absl::StatusOr<std::vector<wal::Record>> out = absl::InternalError("not run");
  RunOnLoop(world, [&] {
    auto wal = OpenWal(world);
    if (!wal.ok()) return out = wal.status(), 1;
    std::vector<wal::Record> records;
    auto reader = (*wal)->NewReader((*wal)->first_sequence());
    if (!reader.ok()) return out = reader.status(), 1;
    for (uint64_t i = 0; i <= kMaxRecords; ++i) {
      auto next = (*reader)->Next();
      if (!next.ok()) return out = next.status(), 1;
      if (!next->has_value()) break;
      records.push_back(std::move(**next));
    }
    (void)(*wal)->Close();
    out = std::move(records);
    return 0;
  });
  return out;
}

}  // namespace

int RunLeader(const NodeArgs& args) {
  absl::StatusOr<std::string> key = ReadKey(args.key_file);
  if (!key.ok()) return Fail(std::string(key.status().message())), 2;  // bad input
  World world;
  if (absl::Status s = OpenFs(world, args.dirs[0]); !s.ok()) return Fail(s.ToString()), 1;
  posix::TcpNetworkOptions options;
  options.cluster_key = *key;
  posix::TcpNetwork network(world.loop, options);
  return RunOnLoop(world, [&] { return LeaderMain(world, network, args); });
}

int RunFollower(const NodeArgs& args) {
  absl::StatusOr<std::string> key = ReadKey(args.key_file);
  if (!key.ok()) return Fail(std::string(key.status().message())), 2;  // bad input
  World world;
  if (absl::Status s = OpenFs(world, args.dirs[0]); !s.ok()) return Fail(s.ToString()), 1;
  posix::TcpNetworkOptions options;
  options.cluster_key = *key;
  posix::TcpNetwork network(world.loop, options);
  return RunOnLoop(world, [&] { return FollowerMain(world, network, args); });
}

int RunVerify(const NodeArgs& args) {
  auto leader = ReadLog(args.dirs[0]);
  if (!leader.ok()) return Fail(absl::StrCat(args.dirs[0], ": ", leader.status().ToString())), 1;
  for (size_t i = 0; i < leader->size(); ++i) {
    if ((*leader)[i].sequence != i + 1) {
      return Fail(absl::StrCat(args.dirs[0], ": sequence ", (*leader)[i].sequence, " at ", i)), 1;
    }
  }
  for (size_t d = 1; d < args.dirs.size(); ++d) {
    auto follower = ReadLog(args.dirs[d]);
    if (!follower.ok()) {
      return Fail(absl::StrCat(args.dirs[d], ": ", follower.status().ToString())), 1;
    }
    if (follower->size() != leader->size()) {
      return Fail(absl::StrCat(args.dirs[d], ": ", follower->size(), " records, the leader has ",
                               leader->size())), 1;
    }
    for (size_t i = 0; i < follower->size(); ++i) {
      const wal::Record& got = (*follower)[i];
      if (got.sequence != i + 1 || got.payload != (*leader)[i].payload) {
        return Fail(absl::StrCat(args.dirs[d], ": record ", i + 1, " differs from the leader's")), 1;
      }
    }
  }
  std::printf("verify: %zu records, %zu followers byte-equal to the leader, gap-free\n",
              leader->size(), args.dirs.size() - 1);
  return 0;
}

}  // namespace faultline::node
