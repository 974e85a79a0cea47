// tests/core/posix/posix_test_util.h — fixtures for tests on the real world:
// a scratch directory under /tmp that is removed afterwards, and a helper
// that runs a body in a fiber of an EventLoop until everything finished.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "absl/functional/any_invocable.h"
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

}  // namespace faultline::posix::testing
