// scenarios/io/forwarding_file_system.h — io::FileSystem / io::File decorators
// that forward every call to an inner implementation.
//
// Scenarios subclass them to watch or steer the I/O of the code under test
// without touching it: test-only decorators emulate buggy variants of the
// WAL (tests/scenarios/buggy_file_systems.h). Override the
// calls of interest; the rest forward unchanged.
//
// Lifetime: a ForwardingFileSystem does not own its inner file system, which
// must outlive it and every file it opened. A ForwardingFile owns its inner
// file.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/io/file_system.h"

namespace faultline::scenarios {

class ForwardingFile : public io::File {
 public:
  explicit ForwardingFile(std::unique_ptr<io::File> inner) : inner_(std::move(inner)) {}

  absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) override {
    return inner_->ReadAt(offset, out);
  }
  absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override {
    return inner_->WriteAt(offset, data);
  }
  absl::Status Append(absl::Span<const char> data) override { return inner_->Append(data); }
  absl::Status Sync() override { return inner_->Sync(); }
  absl::Status Truncate(uint64_t size_bytes) override { return inner_->Truncate(size_bytes); }
  absl::StatusOr<uint64_t> Size() override { return inner_->Size(); }
  absl::Status Close() override { return inner_->Close(); }

 protected:
  io::File& inner() { return *inner_; }

 private:
  std::unique_ptr<io::File> inner_;
};

class ForwardingFileSystem : public io::FileSystem {
 public:
  explicit ForwardingFileSystem(io::FileSystem& inner) : inner_(inner) {}

  // Subclasses that decorate files override WrapFile; Open calls it on every
  // file the inner file system opens.
  absl::StatusOr<std::unique_ptr<io::File>> Open(std::string_view path,
                                                 io::OpenMode mode) override {
    absl::StatusOr<std::unique_ptr<io::File>> file = inner_.Open(path, mode);
    if (!file.ok()) return file.status();
    return WrapFile(path, *std::move(file));
  }
  absl::Status Rename(std::string_view from, std::string_view to) override {
    return inner_.Rename(from, to);
  }
  absl::Status Remove(std::string_view path) override { return inner_.Remove(path); }
  absl::Status CreateDir(std::string_view path) override { return inner_.CreateDir(path); }
  absl::StatusOr<std::vector<std::string>> List(std::string_view dir) override {
    return inner_.List(dir);
  }
  absl::Status SyncDir(std::string_view dir) override { return inner_.SyncDir(dir); }
  absl::StatusOr<bool> Exists(std::string_view path) override { return inner_.Exists(path); }
  absl::StatusOr<std::unique_ptr<io::FileLock>> LockFile(std::string_view path) override {
    return inner_.LockFile(path);
  }

 protected:
  virtual std::unique_ptr<io::File> WrapFile(std::string_view /*path*/,
                                             std::unique_ptr<io::File> file) {
    return file;
  }
  io::FileSystem& inner() { return inner_; }

 private:
  io::FileSystem& inner_;
};

}  // namespace faultline::scenarios
