// tests/core/wal/fake_file_system.cc — the in-memory test file system.
#include "tests/core/wal/fake_file_system.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/io/errors.h"

namespace faultline::wal::testing {

class FakeFile final : public io::File {
 public:
  FakeFile(FakeFileSystem* fs, std::string path, std::shared_ptr<FakeFileSystem::FileData> data)
      : fs_(fs), path_(std::move(path)), data_(std::move(data)), generation_(fs->generation_) {}

  absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) override {
    FAULTLINE_RETURN_IF_ERROR(Check());
    const std::string& bytes = data_->bytes;
    if (offset >= bytes.size()) return size_t{0};
    const size_t n = std::min<size_t>(out.size(), bytes.size() - offset);
    std::copy_n(bytes.data() + offset, n, out.data());
    return n;
  }
  absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override {
    FAULTLINE_RETURN_IF_ERROR(Check());
    if (++fs_->write_calls_ == fs_->fail_write_at_) return io::IoError(absl::StrCat("write ", path_));
    std::string& bytes = data_->bytes;
    if (bytes.size() < offset + data.size()) bytes.resize(offset + data.size(), '\0');
    std::copy(data.begin(), data.end(), bytes.begin() + static_cast<std::ptrdiff_t>(offset));
    return absl::OkStatus();
  }
  absl::Status Append(absl::Span<const char> data) override {
    return WriteAt(data_->bytes.size(), data);
  }
  absl::Status Sync() override {
    FAULTLINE_RETURN_IF_ERROR(Check());
    const uint64_t call = ++fs_->sync_calls_;
    if (fs_->sync_latency_ns_ > 0) {
      FAULTLINE_CHECK(fs_->executor_ != nullptr);
      fs_->executor_->SleepFor(fs_->sync_latency_ns_);
      FAULTLINE_RETURN_IF_ERROR(Check());  // crashed meanwhile
    }
    if (call == fs_->fail_sync_at_) return io::IoError(absl::StrCat("fdatasync ", path_), io::IoFailure::kDataAtRisk);
    data_->durable = data_->bytes;
    return absl::OkStatus();
  }
  absl::Status Truncate(uint64_t size_bytes) override {
    FAULTLINE_RETURN_IF_ERROR(Check());
    data_->bytes.resize(size_bytes, '\0');
    return absl::OkStatus();
  }
  absl::StatusOr<uint64_t> Size() override {
    FAULTLINE_RETURN_IF_ERROR(Check());
    return data_->bytes.size();
  }
  absl::Status Close() override {
    closed_ = true;
    return absl::OkStatus();
  }

 private:
  absl::Status Check() const {
    if (closed_) return absl::FailedPreconditionError(absl::StrCat(path_, " is closed"));
    if (generation_ != fs_->generation_) return io::NodeDeadError(path_);
    return absl::OkStatus();
  }

  FakeFileSystem* fs_;
  std::string path_;
  std::shared_ptr<FakeFileSystem::FileData> data_;
  uint64_t generation_;
  bool closed_ = false;
};

absl::StatusOr<std::unique_ptr<io::File>> FakeFileSystem::Open(std::string_view path,
                                                               io::OpenMode mode) {
  FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(path));
  const std::string key(path);
  if (dirs_.count(std::string(io::ParentDir(path))) == 0) {
    return absl::NotFoundError(absl::StrCat("no directory for ", key));
  }
  auto it = files_.find(key);
  switch (mode) {
    case io::OpenMode::kReadWrite:
      if (it == files_.end()) return absl::NotFoundError(key);
      break;
    case io::OpenMode::kCreate:
      if (it == files_.end()) it = files_.emplace(key, std::make_shared<FileData>()).first;
      break;
    case io::OpenMode::kCreateExclusive:
      if (it != files_.end()) return absl::AlreadyExistsError(key);
      it = files_.emplace(key, std::make_shared<FileData>()).first;
      break;
    case io::OpenMode::kCreateTruncate:
      if (it == files_.end()) it = files_.emplace(key, std::make_shared<FileData>()).first;
      it->second->bytes.clear();
      break;
  }
  return std::unique_ptr<io::File>(new FakeFile(this, key, it->second));
}

absl::Status FakeFileSystem::Rename(std::string_view from, std::string_view to) {
  auto it = files_.find(std::string(from));
  if (it == files_.end()) return absl::NotFoundError(std::string(from));
  files_[std::string(to)] = it->second;
  files_.erase(std::string(from));
  return absl::OkStatus();
}

absl::Status FakeFileSystem::Remove(std::string_view path) {
  if (files_.erase(std::string(path)) == 0) return absl::NotFoundError(std::string(path));
  return absl::OkStatus();
}

absl::Status FakeFileSystem::CreateDir(std::string_view path) {
  FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(path));
  dirs_.insert(std::string(path));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> FakeFileSystem::List(std::string_view dir) {
  const std::string key(dir);
  if (dirs_.count(key) == 0) return absl::NotFoundError(key);
  const std::string prefix = key.empty() ? "" : key + "/";
  std::vector<std::string> names;
  for (const auto& [path, data] : files_) {
    if (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
        path.find('/', prefix.size()) == std::string::npos) {
      names.push_back(path.substr(prefix.size()));
    }
  }
  for (const std::string& d : dirs_) {
    if (d.size() > prefix.size() && d.compare(0, prefix.size(), prefix) == 0 &&
        d.find('/', prefix.size()) == std::string::npos) {
      names.push_back(d.substr(prefix.size()));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status FakeFileSystem::SyncDir(std::string_view dir) {
  ++dir_sync_calls_;
  if (dirs_.count(std::string(dir)) == 0) return absl::NotFoundError(std::string(dir));
  return absl::OkStatus();
}

absl::StatusOr<bool> FakeFileSystem::Exists(std::string_view path) {
  const std::string key(path);
  return files_.count(key) > 0 || dirs_.count(key) > 0;
}

absl::StatusOr<std::unique_ptr<io::FileLock>> FakeFileSystem::LockFile(std::string_view path) {
  const std::string key(path);
  if (files_.count(key) == 0 && dirs_.count(key) == 0) return absl::NotFoundError(key);
  return locks_.Lock(path);
}

void FakeFileSystem::Crash(uint64_t keep_unsynced_bytes) {
  ++generation_;
  locks_.ReleaseAll();
  for (auto& [path, data] : files_) {
    std::string survived = data->durable;
    const std::string& current = data->bytes;
    if (current.size() > survived.size() &&
        current.compare(0, survived.size(), survived) == 0) {
      survived += current.substr(survived.size(), keep_unsynced_bytes);
    }
    // A fresh FileData: handles of the dead incarnation keep the old one.
    data = std::make_shared<FileData>(FileData{survived, survived});
  }
}

std::string& FakeFileSystem::Bytes(const std::string& path) {
  auto it = files_.find(path);
  FAULTLINE_CHECK_MSG(it != files_.end(), "no such fake file");
  return it->second->bytes;
}

void FakeFileSystem::SetBytes(const std::string& path, std::string bytes) {
  auto& data = files_[path];
  if (data == nullptr) data = std::make_shared<FileData>();
  data->bytes = bytes;
  data->durable = std::move(bytes);
}

std::vector<std::string> FakeFileSystem::Files() const {
  std::vector<std::string> paths;
  for (const auto& [path, data] : files_) paths.push_back(path);
  return paths;
}

}  // namespace faultline::wal::testing
