// tests/harness/cli_process_util.h — running the `faultline` binaries as a
// user does, for the end-to-end CLI tests: each command through the shell,
// bounded in wall time, its stdout and stderr captured together.
//
// The including target defines FAULTLINE_BINARY and
// FAULTLINE_SELFTEST_BINARY (the paths of `faultline` and
// `faultline_selftest`).
#pragma once

#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "absl/strings/str_format.h"

namespace faultline::testing {

struct ProcessResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr
};

// Runs `binary arguments` through the shell, killed after `limit_s` seconds
// (exit code 137): a harness that hangs fails its test instead of hanging it.
inline ProcessResult RunBinary(const std::string& binary, const std::string& arguments,
                        int limit_s = 120) {
  const std::string command =
      absl::StrFormat("timeout -s KILL %d %s %s 2>&1", limit_s, binary, arguments);
  ProcessResult result;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return result;
  std::array<char, 4096> buffer;
  size_t read_bytes;
  while ((read_bytes = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    result.output.append(buffer.data(), read_bytes);
  }
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

inline ProcessResult RunFaultline(const std::string& arguments, int limit_s = 120) {
  return RunBinary(FAULTLINE_BINARY, arguments, limit_s);
}

// The same command line with the hostile selftest_* scenarios registered.
inline ProcessResult RunSelftest(const std::string& arguments, int limit_s = 120) {
  return RunBinary(FAULTLINE_SELFTEST_BINARY, arguments, limit_s);
}

// Well under selftest::kHangSeconds: a run that waits out a bounded hang of
// a selftest scenario is killed, and fails its test, instead of passing late.
inline constexpr int kShortLimitS = 20;

// A fresh directory under the system's temporary directory.
inline std::string MakeTempDir() {
  std::string path = (std::filesystem::temp_directory_path() / "faultline-cli-XXXXXX").string();
  return mkdtemp(path.data()) != nullptr ? path : "";
}

}  // namespace faultline::testing
