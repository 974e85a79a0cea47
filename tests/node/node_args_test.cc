// tests/node/node_args_test.cc — the faultline-node command line: what it
// accepts, and a one-line InvalidArgument for everything else.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tools/node/node_args.h"

namespace faultline::node {
namespace {

absl::StatusOr<NodeArgs> Parse(std::vector<std::string> args) { return ParseNodeArgs(args); }

TEST(NodeArgs, ParsesEachRole) {
  auto leader = Parse({"leader", "--dir", "d", "--listen", "127.0.0.1:1", "--key-file", "k",
                       "--follower", "127.0.0.1:2", "--follower", "127.0.0.1:3", "--records",
                       "500", "--appenders", "8", "--record-bytes", "64"});
  ASSERT_TRUE(leader.ok()) << leader.status();
  EXPECT_EQ(leader->role, Role::kLeader);
  EXPECT_EQ(leader->followers.size(), 2u);
  EXPECT_EQ(leader->records, 500u);
  EXPECT_EQ(leader->appenders, 8u);
  EXPECT_EQ(leader->record_bytes, 64u);

  auto follower = Parse({"follower", "--dir", "d", "--listen", "127.0.0.1:2", "--key-file", "k",
                         "--leader", "127.0.0.1:1", "--exit-at-committed", "9"});
  ASSERT_TRUE(follower.ok()) << follower.status();
  EXPECT_EQ(follower->leader, "127.0.0.1:1");
  EXPECT_EQ(follower->exit_at_committed, 9u);

  auto verify = Parse({"verify", "--dir", "a", "--dir", "b"});
  ASSERT_TRUE(verify.ok()) << verify.status();
  EXPECT_EQ(verify->dirs.size(), 2u);
}

TEST(NodeArgs, RefusesBadInputWithOneLine) {
  const std::vector<std::vector<std::string>> bad = {
      {},
      {"boss"},
      {"leader"},                                                     // required options
      {"leader", "--dir", "d", "--listen", "a:1", "--key-file", "k", "--records", "1e3"},
      {"leader", "--dir", "d", "--listen", "a:1", "--key-file", "k", "--records", "-1"},
      {"leader", "--dir", "d", "--listen", "a:1", "--key-file", "k", "--records", "0x10"},
      {"leader", "--dir", "d", "--listen", "a:1", "--key-file", "k", "--appenders", "0"},
      {"leader", "--dir", "d", "--listen", "a:1", "--key-file", "k", "--record-bytes", "3"},
      {"leader", "--dir", "d", "--listen", "a:1", "--key-file", "k", "--records", "5",
       "--records", "6"},
      {"leader", "--dir", "d", "--listen", "a:1", "--key-file", "k", "--follower", "a:1"},
      {"leader", "--dir", "d", "--dir", "e", "--listen", "a:1", "--key-file", "k"},
      {"leader", "--dir=d", "--listen", "a:1", "--key-file", "k"},
      {"leader", "--dir", "d", "--listen", "a:1", "--key-file", "k", "--wal-only", "--follower",
       "b:2"},
      {"leader", "--dir", "d", "--listen", "a:1", "--key-file", "k", "--bogus"},
      {"follower", "--dir", "d", "--listen", "a:1", "--key-file", "k"},  // no --leader
      {"follower", "--dir", "d", "--listen", "a:1", "--key-file", "k", "--leader", "a:1"},
      {"verify", "--dir", "a"},
  };
  for (const auto& args : bad) {
    auto parsed = Parse(args);
    std::string joined;
    for (const auto& word : args) joined += word + " ";
    ASSERT_FALSE(parsed.ok()) << joined;
    EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << joined;
    EXPECT_EQ(std::string(parsed.status().message()).find('\n'), std::string::npos) << joined;
  }
}

}  // namespace
}  // namespace faultline::node
