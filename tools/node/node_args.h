// tools/node/node_args.h — the `faultline-node` command line.
//
// faultline-node leader   --dir D --listen ADDR --key-file F [--follower ADDR]...
//                         [--records N] [--record-bytes B] [--appenders K]
//                         [--wal-only] [--timeout-s S]
// faultline-node follower --dir D --listen ADDR --key-file F --leader ADDR
//                         [--exit-at-committed N] [--timeout-s S]
// faultline-node verify   --dir LEADER_DIR --dir FOLLOWER_DIR...
//
// Kept apart from main() so that every malformed input is a unit-tested
// InvalidArgument with a one-line message (exit 2), never a crash.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace faultline::node {

enum class Role { kLeader, kFollower, kVerify };

struct NodeArgs {
  Role role = Role::kLeader;
  std::vector<std::string> dirs;        // one, except for verify
  std::string listen;                   // "127.0.0.1:PORT"
  std::string key_file;                 // the cluster key (>= 16 bytes)
  std::vector<std::string> followers;   // leader
  std::string leader;                   // follower
  uint64_t records = 10'000;            // leader: records to append
  uint32_t record_bytes = 100;          // leader: payload size
  uint32_t appenders = 64;              // leader: concurrent appender fibers
  bool wal_only = false;                // leader: the WAL alone, no replication (baseline)
  uint64_t exit_at_committed = 0;       // follower: exit 0 once this much is committed
  int64_t timeout_ns = 120'000'000'000; // give up (exit 1) after this long
};

inline constexpr uint64_t kMaxRecords = 100'000'000;
inline constexpr uint32_t kMaxRecordBytes = 1 << 20;
inline constexpr uint32_t kMaxAppenders = 4096;

// argv[1..]. InvalidArgument with a message fit for the user.
absl::StatusOr<NodeArgs> ParseNodeArgs(const std::vector<std::string>& args);

std::string NodeUsage();

}  // namespace faultline::node
