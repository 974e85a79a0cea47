// tests/core/posix/posix_test_util.h — fixtures for tests on the real world:
// a scratch directory under /tmp that is removed afterwards, a helper that
// runs a body in a fiber of an EventLoop until everything finished, and the
// small helpers the file tests share (bytes of a string, open descriptors).
#pragma once

#include <dirent.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/functional/any_invocable.h"
#include "absl/types/span.h"
#include "core/posix/event_loop.h"

namespace faultline::posix::testing {

// mkdtemp under /tmp; removed recursively on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = "/tmp/faultline-posix-XXXXXX";
    char* made = mkdtemp(pattern.data());
    if (made == nullptr) {
      ADD_FAILURE() << "mkdtemp failed";
      return;
    }
    path_ = made;
  }
  ~TempDir() {
    if (path_.empty()) return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// Runs `body` as a fiber and the loop until every fiber finished.
inline void RunInFiber(EventLoop& loop, absl::AnyInvocable<void() &&> body) {
  loop.StartFiber("test-body", std::move(body));
  const RunOutcome outcome = loop.Run();
  EXPECT_EQ(outcome, RunOutcome::kCompleted);
  EXPECT_EQ(loop.live_fibers(), 0u);
}

// The bytes of a string, as the io calls take them.
inline absl::Span<const char> Bytes(std::string_view text) { return {text.data(), text.size()}; }

// Entries of /proc/self/fd (the directory's own fd included, every time), or
// -1 if it cannot be read; compare two counts to find a leaked descriptor.
inline int OpenFdCount() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int count = 0;
  while (readdir(dir) != nullptr) ++count;
  closedir(dir);
  return count;
}

}  // namespace faultline::posix::testing
