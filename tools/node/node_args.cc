// tools/node/node_args.cc — parsing the `faultline-node` command line with
// CLI11; the values are checked here (ranges, forms) so that `1e3`, `-1`,
// `0x10` or an option given twice are refused with one line.
#include "tools/node/node_args.h"

#include <algorithm>
#include <charconv>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"

namespace faultline::node {
namespace {

absl::Status Usage(std::string_view message) {
  return absl::InvalidArgumentError(std::string(message));
}

// A decimal integer in [min, max], digits only.
absl::StatusOr<uint64_t> ParseCount(const std::string& name, const std::string& text,
                                    uint64_t min, uint64_t max) {
  uint64_t value = 0;
  const bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                   [](char c) { return c >= '0' && c <= '9'; });
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (!digits || error != std::errc() || end != text.data() + text.size() || value < min ||
      value > max) {
    return Usage(absl::StrCat(name, " must be an integer from ", min, " to ", max, " (got '",
                              text, "')"));
  }
  return value;
}

struct Raw {
  std::string records, record_bytes, appenders, exit_at, timeout_s;
};

void Define(CLI::App& command, Role role, NodeArgs& out, Raw& raw) {
  command.add_option("--dir", out.dirs)->required()->take_all();
  if (role == Role::kVerify) return;
  command.add_option("--listen", out.listen)->required();
  command.add_option("--key-file", out.key_file)->required();
  command.add_option("--timeout-s", raw.timeout_s);
  if (role == Role::kLeader) {
    command.add_option("--follower", out.followers);
    command.add_option("--records", raw.records);
    command.add_option("--record-bytes", raw.record_bytes);
    command.add_option("--appenders", raw.appenders);
    command.add_flag("--wal-only", out.wal_only);
  } else {
    command.add_option("--leader", out.leader)->required();
    command.add_option("--exit-at-committed", raw.exit_at);
  }
}

absl::Status Convert(const Raw& raw, NodeArgs& out) {
  if (!raw.records.empty()) {
    auto v = ParseCount("--records", raw.records, 1, kMaxRecords);
    if (!v.ok()) return v.status();
    out.records = *v;
  }
  if (!raw.record_bytes.empty()) {
    auto v = ParseCount("--record-bytes", raw.record_bytes, 16, kMaxRecordBytes);
    if (!v.ok()) return v.status();
    out.record_bytes = static_cast<uint32_t>(*v);
  }
  if (!raw.appenders.empty()) {
    auto v = ParseCount("--appenders", raw.appenders, 1, kMaxAppenders);
    if (!v.ok()) return v.status();
    out.appenders = static_cast<uint32_t>(*v);
  }
  if (!raw.exit_at.empty()) {
    auto v = ParseCount("--exit-at-committed", raw.exit_at, 1, kMaxRecords);
    if (!v.ok()) return v.status();
    out.exit_at_committed = *v;
  }
  if (!raw.timeout_s.empty()) {
    auto v = ParseCount("--timeout-s", raw.timeout_s, 1, 86'400);
    if (!v.ok()) return v.status();
    out.timeout_ns = static_cast<int64_t>(*v) * 1'000'000'000;
  }
  return absl::OkStatus();
}

absl::Status Check(const NodeArgs& out) {
  if (out.role == Role::kVerify) {
    if (out.dirs.size() < 2) return Usage("verify needs the leader's --dir and at least one more");
    return absl::OkStatus();
  }
  if (out.dirs.size() != 1) return Usage("--dir given more than once");
  for (const std::string& peer : out.followers) {
    if (peer == out.listen) return Usage("a --follower is the node's own --listen address");
  }
  if (out.role == Role::kFollower && out.leader == out.listen) {
    return Usage("--leader is the node's own --listen address");
  }
  if (out.wal_only && !out.followers.empty()) return Usage("--wal-only takes no --follower");
  return absl::OkStatus();
}

}  // namespace

std::string NodeUsage() {
  return "usage: faultline-node leader --dir D --listen ADDR --key-file F [--follower ADDR]...\n"
         "                             [--records N] [--record-bytes B] [--appenders K]\n"
         "                             [--wal-only] [--timeout-s S]\n"
         "       faultline-node follower --dir D --listen ADDR --key-file F --leader ADDR\n"
         "                             [--exit-at-committed N] [--timeout-s S]\n"
         "       faultline-node verify --dir LEADER_DIR --dir FOLLOWER_DIR...\n"
         "exit codes: 0 done, 1 failed (I/O, timeout, verification), 2 bad usage or key file\n";
}

absl::StatusOr<NodeArgs> ParseNodeArgs(const std::vector<std::string>& args) {
  if (args.empty()) return Usage("missing role (leader, follower or verify)");
  NodeArgs out;
  const std::string& role = args[0];
  if (role == "leader") {
    out.role = Role::kLeader;
  } else if (role == "follower") {
    out.role = Role::kFollower;
  } else if (role == "verify") {
    out.role = Role::kVerify;
  } else {
    return Usage(absl::StrCat("unknown role '", role, "' (leader, follower or verify)"));
  }
  CLI::App app{"faultline-node"};
  app.set_help_flag();
  app.allow_extras(false);
  Raw raw;
  Define(app, out.role, out, raw);
  std::vector<std::string> reversed(args.begin() + 1, args.end());
  for (const std::string& word : reversed) {
    if (word.rfind("--", 0) == 0 && word.find('=') != std::string::npos) {
      return Usage(absl::StrCat("write '", word.substr(0, word.find('=')),
                                " VALUE', not '--opt=value'"));
    }
  }
  std::reverse(reversed.begin(), reversed.end());  // CLI11 reads its vector from the back
  try {
    app.parse(reversed);
  } catch (const CLI::ParseError& error) {
    return Usage(error.what());
  }
  for (const CLI::Option* option : app.get_options()) {
    const bool repeatable = option->get_name() == "--follower" || option->get_name() == "--dir";
    if (!repeatable && option->count() > 1) {
      return Usage(absl::StrCat(option->get_name(), " given twice"));
    }
  }
  if (absl::Status s = Convert(raw, out); !s.ok()) return s;
  if (absl::Status s = Check(out); !s.ok()) return s;
  return out;
}

}  // namespace faultline::node
