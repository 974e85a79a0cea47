// tools/node/main.cc — `faultline-node`: one replication node (leader or
// follower) on real files and loopback TCP, or the check of their logs.
// Bad usage: one line on stderr, exit 2.
#include <cstdio>
#include <string>
#include <vector>

#include "spdlog/spdlog.h"
#include "tools/node/node_args.h"
#include "tools/node/node_roles.h"

int main(int argc, char** argv) {
  using faultline::node::Role;
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && (args[0] == "--help" || args[0] == "-h" || args[0] == "help")) {
    std::fputs(faultline::node::NodeUsage().c_str(), stdout);
    return 0;
  }
  auto parsed = faultline::node::ParseNodeArgs(args);
  if (!parsed.ok()) {
    std::fprintf(stderr, "faultline-node: %s (see 'faultline-node --help')\n",
                 std::string(parsed.status().message()).c_str());
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  switch (parsed->role) {
    case Role::kLeader: return faultline::node::RunLeader(*parsed);
    case Role::kFollower: return faultline::node::RunFollower(*parsed);
    case Role::kVerify: return faultline::node::RunVerify(*parsed);
  }
  return 2;
}
