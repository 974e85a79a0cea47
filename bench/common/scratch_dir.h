// bench/common/scratch_dir.h — a temporary directory on a real disk for
// benchmarks that measure fdatasync, removed with its contents afterwards.
//
// /tmp is a real disk on the machines these benchmarks run on; on tmpfs
// fdatasync is free and a comparison against it would be meaningless, so
// OnTmpfs() lets a benchmark refuse (or say so) instead of printing numbers
// that mean nothing.
#pragma once

#include <stdlib.h>
#include <sys/vfs.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

#include "core/base/check.h"

namespace faultline::bench {

class ScratchDir {
 public:
  // `name` becomes part of the directory name, e.g. "wal-bench".
  explicit ScratchDir(std::string_view name) {
    std::string pattern = "/tmp/faultline-" + std::string(name) + "-XXXXXX";
    FAULTLINE_CHECK_MSG(mkdtemp(pattern.data()) != nullptr, "mkdtemp failed");
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }

  // Whether the directory lives on tmpfs (where fdatasync costs nothing).
  bool OnTmpfs() const {
    struct statfs info {};
    constexpr long kTmpfsMagic = 0x01021994;
    return statfs(path_.c_str(), &info) == 0 && static_cast<long>(info.f_type) == kTmpfsMagic;
  }

 private:
  std::string path_;
};

}  // namespace faultline::bench
