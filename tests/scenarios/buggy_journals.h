// tests/scenarios/buggy_journals.h — test-only decorators that turn the
// correct journal into a broken one, to prove that the journal scenarios'
// snapshot-atomicity checker bites.
//
// core/journal may not carry a deliberate bug, so each is emulated from
// outside: the journal talks to the simulated disk through one of these
// io::FileSystem decorators, which makes its own, correct calls behave like
// the broken variant's (paths are the scenarios' "j/..."):
//
//  SkipTmpSync            File::Sync of a snapshot tmp file does nothing and
//                         reports OK: the tmp file is renamed into place (and
//                         the WAL released) with its data never synced.
//  ReleaseBeforeDirSync   the directory sync right after a snapshot's rename
//                         does nothing and reports OK, so the WAL's release
//                         comes before the new name is durable (a later
//                         directory sync makes it durable, too late).
//  TrustUnverified        reads of a snapshot's header return one rebuilt
//                         from the file as it is (its name's sequence, its
//                         length, its body's checksum): the journal restores
//                         whatever the file holds, damaged or not.
//  PickUpTmp              a tmp file shows up in the directory as the
//                         snapshot it was going to become (when that one
//                         does not exist), and is trusted as TrustUnverified
//                         trusts: recovery adopts a checkpoint that never
//                         finished.
//  NoFallback             recovery sees only the newest snapshot, so a
//                         damaged one is never replaced by an older
//                         snapshot and the WAL: it fails naming the file
//                         even when the state could still be recovered.
//  ReplayOverlap          recovery takes snapshot-S for snapshot-(S-1) (its
//                         header rebuilt to match), so it replays record S
//                         once more on top of a state that already holds it.
//
// Contract: each decorator forwards to an inner file system that outlives
// it and the files it opens.
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/base/crc32c.h"
#include "core/journal/snapshot_format.h"
#include "scenarios/io/forwarding_file_system.h"

namespace faultline::scenarios::testing {

inline std::string_view BaseName(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// --- SkipTmpSync ---------------------------------------------------------------

class SkipTmpSyncFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view path,
                                     std::unique_ptr<io::File> file) override {
    if (!journal::format::IsTmpName(BaseName(path))) return file;
    return std::make_unique<NoSyncFile>(std::move(file));
  }

 private:
  class NoSyncFile final : public ForwardingFile {
   public:
    using ForwardingFile::ForwardingFile;
    absl::Status Sync() override { return absl::OkStatus(); }
  };
};

// --- ReleaseBeforeDirSync ------------------------------------------------------

class ReleaseBeforeDirSyncFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

  absl::Status Rename(std::string_view from, std::string_view to) override {
    absl::Status status = ForwardingFileSystem::Rename(from, to);
    if (status.ok() && journal::format::ParseSnapshotName(BaseName(to)).has_value()) {
      skip_next_dir_sync_ = true;
    }
    return status;
  }
  absl::Status SyncDir(std::string_view dir) override {
    // The journal's own directory (not its WAL's).
    if (skip_next_dir_sync_ && dir.find('/') == std::string_view::npos && !dir.empty()) {
      skip_next_dir_sync_ = false;
      return absl::OkStatus();
    }
    return ForwardingFileSystem::SyncDir(dir);
  }

 private:
  bool skip_next_dir_sync_ = false;
};

// --- TrustUnverified and PickUpTmp ---------------------------------------------

// Serves a header rebuilt from the file as it is, so any body verifies.
class TrustingSnapshotFile final : public ForwardingFile {
 public:
  TrustingSnapshotFile(std::unique_ptr<io::File> inner, uint64_t sequence)
      : ForwardingFile(std::move(inner)), sequence_(sequence) {}

  absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) override {
    if (offset != 0 || out.size() != journal::format::kHeaderBytes) {
      return ForwardingFile::ReadAt(offset, out);
    }
    absl::StatusOr<uint64_t> size = ForwardingFile::Size();
    if (!size.ok()) return size.status();
    if (*size < journal::format::kHeaderBytes) return ForwardingFile::ReadAt(offset, out);
    journal::format::Header header;
    header.sequence = sequence_;
    header.body_bytes = *size - journal::format::kHeaderBytes;
    std::string body(header.body_bytes, '\0');
    absl::StatusOr<size_t> got =
        ForwardingFile::ReadAt(journal::format::kHeaderBytes, absl::Span<char>(body.data(), body.size()));
    if (!got.ok()) return got.status();
    header.body_crc = base::MaskCrc(base::Crc32c(body));
    journal::format::EncodeHeader(header, out.data());
    return out.size();
  }

 private:
  const uint64_t sequence_;
};

class TrustUnverifiedFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view path,
                                     std::unique_ptr<io::File> file) override {
    std::optional<uint64_t> sequence = journal::format::ParseSnapshotName(BaseName(path));
    if (!sequence.has_value()) return file;
    return std::make_unique<TrustingSnapshotFile>(std::move(file), *sequence);
  }
};

class PickUpTmpFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

  absl::StatusOr<std::vector<std::string>> List(std::string_view dir) override {
    absl::StatusOr<std::vector<std::string>> names = ForwardingFileSystem::List(dir);
    if (!names.ok()) return names;
    std::vector<std::string> shown;
    for (const std::string& name : *names) {
      if (!journal::format::IsTmpName(name)) {
        shown.push_back(name);
        continue;
      }
      const std::string adopted = name.substr(0, name.size() - journal::format::kTmpSuffix.size());
      if (std::find(names->begin(), names->end(), adopted) == names->end()) {
        shown.push_back(adopted);
      }
    }
    std::sort(shown.begin(), shown.end());
    return shown;
  }
  absl::StatusOr<std::unique_ptr<io::File>> Open(std::string_view path,
                                                 io::OpenMode mode) override {
    std::optional<uint64_t> sequence = journal::format::ParseSnapshotName(BaseName(path));
    if (sequence.has_value() && mode == io::OpenMode::kReadWrite) {
      const std::string tmp = std::string(path) + std::string(journal::format::kTmpSuffix);
      absl::StatusOr<bool> real = inner().Exists(path);
      absl::StatusOr<bool> pending = inner().Exists(tmp);
      if (real.ok() && !*real && pending.ok() && *pending) {
        absl::StatusOr<std::unique_ptr<io::File>> file = inner().Open(tmp, mode);
        if (!file.ok()) return file.status();
        return std::unique_ptr<io::File>(
            std::make_unique<TrustingSnapshotFile>(*std::move(file), *sequence));
      }
    }
    return ForwardingFileSystem::Open(path, mode);
  }
};

// --- NoFallback ---------------------------------------------------------------

class NoFallbackFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

  absl::StatusOr<std::vector<std::string>> List(std::string_view dir) override {
    absl::StatusOr<std::vector<std::string>> names = ForwardingFileSystem::List(dir);
    if (!names.ok()) return names;
    std::vector<std::string> shown;
    std::string newest;  // names are sorted: the last snapshot is the newest
    for (const std::string& name : *names) {
      if (journal::format::ParseSnapshotName(name).has_value()) {
        newest = name;
      } else {
        shown.push_back(name);
      }
    }
    if (!newest.empty()) shown.push_back(newest);
    std::sort(shown.begin(), shown.end());
    return shown;
  }
};

// --- ReplayOverlap ------------------------------------------------------------

class ReplayOverlapFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

  absl::StatusOr<std::vector<std::string>> List(std::string_view dir) override {
    absl::StatusOr<std::vector<std::string>> names = ForwardingFileSystem::List(dir);
    if (!names.ok()) return names;
    std::vector<std::string> shown;
    for (const std::string& name : *names) {
      std::optional<uint64_t> sequence = journal::format::ParseSnapshotName(name);
      shown.push_back(sequence.has_value() && *sequence >= 2
                          ? journal::format::SnapshotName(*sequence - 1)
                          : name);
    }
    std::sort(shown.begin(), shown.end());
    shown.erase(std::unique(shown.begin(), shown.end()), shown.end());
    return shown;
  }
  absl::StatusOr<std::unique_ptr<io::File>> Open(std::string_view path,
                                                 io::OpenMode mode) override {
    std::optional<uint64_t> sequence = journal::format::ParseSnapshotName(BaseName(path));
    if (!sequence.has_value() || mode != io::OpenMode::kReadWrite) {
      return ForwardingFileSystem::Open(path, mode);
    }
    const std::string dir(path.substr(0, path.size() - BaseName(path).size()));
    const std::string real = dir + journal::format::SnapshotName(*sequence + 1);
    absl::StatusOr<bool> exists = inner().Exists(real);
    if (!exists.ok() || !*exists) return ForwardingFileSystem::Open(path, mode);
    absl::StatusOr<std::unique_ptr<io::File>> file = inner().Open(real, mode);
    if (!file.ok()) return file.status();
    return std::unique_ptr<io::File>(
        std::make_unique<TrustingSnapshotFile>(*std::move(file), *sequence));
  }
};

}  // namespace faultline::scenarios::testing
