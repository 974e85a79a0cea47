// sim/disk/sim_namespace.cc — the bodies of SimFileSystem's namespace calls
// (open, rename, remove, mkdir, list, directory sync). Each checks its
// arguments and preconditions, then counts the op as a device op (so every
// counted op can fault), re-checks them (the op may have parked while other
// fibers changed the namespace), applies its faults, and logs its effect.
#include <algorithm>
#include <cerrno>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/io/errors.h"
#include "sim/disk/sim_file.h"
#include "sim/disk/sim_file_system.h"
#include "core/base/absl_string_view.h"

namespace faultline::sim::disk {

absl::StatusOr<std::unique_ptr<io::File>> SimFileSystem::DoOpen(const std::string& key,
                                                                io::OpenMode mode,
                                                                const std::string& what) {
  auto check = [&]() -> absl::Status {
    FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(key));
    const std::string parent(io::ParentDir(key));
    if (!parent.empty() && dirs_.count(parent) == 0) {
      return absl::NotFoundError(absl::StrCat(what, ": no such directory"));
    }
    if (dirs_.count(key) > 0) return io::ErrnoToStatus(EISDIR, what);
    const bool exists = files_.count(key) > 0;
    if (exists && mode == io::OpenMode::kCreateExclusive) {
      return absl::AlreadyExistsError(absl::StrCat(what, ": exists"));
    }
    if (!exists && mode == io::OpenMode::kReadWrite) {
      return absl::NotFoundError(absl::StrCat(what, ": no such file"));
    }
    return absl::OkStatus();
  };
  FAULTLINE_RETURN_IF_ERROR(check());
  auto decision = BeginOp(DiskOp::kOpen, what, CurrentTicket());
  if (!decision.ok()) return decision.status();
  FAULTLINE_RETURN_IF_ERROR(check());
  if (decision->eio) return FailMetadataOp(what);
  auto found = files_.find(key);
  uint64_t inode_id;
  if (found != files_.end()) {
    inode_id = found->second;
    if (mode == io::OpenMode::kCreateTruncate) {
      CacheInode& inode = inodes_.at(inode_id);
      ReleaseBytes(inode.data.size());
      inode.data.clear();
      inode.latent.Truncated(0, disk_->options_.atomic_unit_bytes);
      inode.pending.ops.push_back(DataOp{.kind = DataOp::Kind::kTruncate, .offset = 0});
      ++pending_data_ops_;
      CheckPendingBound();
    }
  } else {
    if (decision->no_space) return io::NoSpaceError(what);
    inode_id = next_inode_++;
    inodes_.emplace(inode_id, CacheInode{});
    files_.emplace(key, inode_id);
    LogNamespaceOp(NamespaceOp{.kind = NamespaceOp::Kind::kCreate, .path = key, .inode = inode_id});
  }
  CacheInode& inode = inodes_.at(inode_id);
  ++inode.open_handles;
  auto file =
      std::make_unique<SimFileHandle>(std::make_shared<SimFile>(this, inode_id, &inode, key));
  if (decision->crash_after) return CrashFromOp(decision->crash_kind, "disk fault plan", what);
  return std::unique_ptr<io::File>(std::move(file));
}

namespace {

bool Under(const std::string& path, const std::string& dir) {
  return path.size() > dir.size() && path.starts_with(dir) && path[dir.size()] == '/';
}

}  // namespace

absl::Status SimFileSystem::CheckRenameDir(const std::string& from, const std::string& to,
                                           const std::string& what) const {
  if (Under(to, from)) return io::ErrnoToStatus(EINVAL, absl::StrCat(what, ": into itself"));
  if (files_.count(to) > 0) return io::ErrnoToStatus(ENOTDIR, what);
  const std::string to_parent(io::ParentDir(to));
  if (!to_parent.empty() && dirs_.count(to_parent) == 0) {
    return absl::NotFoundError(absl::StrCat(what, ": no such directory"));
  }
  if (dirs_.count(to) > 0 && from != to) {
    const std::string prefix = to + "/";
    auto child_file = files_.lower_bound(prefix);
    auto child_dir = dirs_.lower_bound(prefix);
    if ((child_file != files_.end() && child_file->first.starts_with(prefix)) ||
        (child_dir != dirs_.end() && child_dir->starts_with(prefix))) {
      return io::ErrnoToStatus(ENOTEMPTY, what);
    }
  }
  return absl::OkStatus();
}

void SimFileSystem::MoveDirInCache(const std::string& from, const std::string& to) {
  dirs_.erase(to);  // an empty target is replaced
  std::vector<std::string> dirs;
  std::vector<std::pair<std::string, uint64_t>> files;
  // Bounded by the entries under `from`.
  for (auto it = dirs_.lower_bound(from); it != dirs_.end() && it->starts_with(from); ++it) {
    if (*it == from || Under(*it, from)) dirs.push_back(*it);
  }
  for (auto it = files_.lower_bound(from); it != files_.end() && it->first.starts_with(from); ++it) {
    if (Under(it->first, from)) files.emplace_back(it->first, it->second);
  }
  for (const std::string& dir : dirs) {
    dirs_.erase(dir);
    dirs_.insert(to + dir.substr(from.size()));
  }
  for (const auto& [path, inode_id] : files) {
    files_.erase(path);
    files_.emplace(to + path.substr(from.size()), inode_id);
  }
  LogNamespaceOp(NamespaceOp{.kind = NamespaceOp::Kind::kRenameDir, .path = from, .to_path = to});
}

absl::Status SimFileSystem::DoRename(const std::string& from, const std::string& to,
                                     const std::string& what) {
  auto check = [&]() -> absl::Status {
    FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(from));
    FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(to));
    if (dirs_.count(from) > 0) return CheckRenameDir(from, to, what);
    if (dirs_.count(to) > 0) return io::ErrnoToStatus(EISDIR, what);
    if (files_.count(from) == 0) return absl::NotFoundError(absl::StrCat(what, ": no such file"));
    const std::string to_parent(io::ParentDir(to));
    if (!to_parent.empty() && dirs_.count(to_parent) == 0) {
      return absl::NotFoundError(absl::StrCat(what, ": no such directory"));
    }
    return absl::OkStatus();
  };
  FAULTLINE_RETURN_IF_ERROR(check());
  auto decision = BeginOp(DiskOp::kRename, what, CurrentTicket());
  if (!decision.ok()) return decision.status();
  FAULTLINE_RETURN_IF_ERROR(check());
  if (decision->eio) return FailMetadataOp(what);
  if (dirs_.count(from) > 0) {
    if (from != to) MoveDirInCache(from, to);
  } else if (from != to) {
    auto source = files_.find(from);
    const uint64_t inode_id = source->second;
    files_.erase(source);
    auto target = files_.find(to);
    if (target != files_.end()) {
      UnlinkInode(target->second);
      target->second = inode_id;
    } else {
      files_.emplace(to, inode_id);
    }
    LogNamespaceOp(NamespaceOp{
        .kind = NamespaceOp::Kind::kRename, .path = from, .to_path = to, .inode = inode_id});
  }
  if (decision->crash_after) return CrashFromOp(decision->crash_kind, "disk fault plan", what);
  return absl::OkStatus();
}

absl::Status SimFileSystem::DoRemove(const std::string& key, const std::string& what) {
  auto check = [&]() -> absl::Status {
    FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(key));
    if (dirs_.count(key) > 0) {
      const std::string prefix = key + "/";
      auto child_file = files_.lower_bound(prefix);
      auto child_dir = dirs_.lower_bound(prefix);
      if ((child_file != files_.end() && child_file->first.starts_with(prefix)) ||
          (child_dir != dirs_.end() && child_dir->starts_with(prefix))) {
        return io::ErrnoToStatus(ENOTEMPTY, what);
      }
      return absl::OkStatus();
    }
    if (files_.count(key) == 0) return absl::NotFoundError(absl::StrCat(what, ": no such file"));
    return absl::OkStatus();
  };
  FAULTLINE_RETURN_IF_ERROR(check());
  auto decision = BeginOp(DiskOp::kRemove, what, CurrentTicket());
  if (!decision.ok()) return decision.status();
  FAULTLINE_RETURN_IF_ERROR(check());
  if (decision->eio) return FailMetadataOp(what);
  if (dirs_.count(key) > 0) {
    dirs_.erase(key);
    LogNamespaceOp(NamespaceOp{.kind = NamespaceOp::Kind::kRemove, .path = key});
  } else {
    auto found = files_.find(key);
    const uint64_t inode_id = found->second;
    files_.erase(found);
    // Logged first: the inode stays named by the pending remove.
    LogNamespaceOp(NamespaceOp{.kind = NamespaceOp::Kind::kRemove, .path = key, .inode = inode_id});
    UnlinkInode(inode_id);
  }
  if (decision->crash_after) return CrashFromOp(decision->crash_kind, "disk fault plan", what);
  return absl::OkStatus();
}

absl::Status SimFileSystem::DoCreateDir(const std::string& key, const std::string& what) {
  auto check = [&]() -> absl::Status {
    FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(key));
    const std::string parent(io::ParentDir(key));
    if (!parent.empty() && dirs_.count(parent) == 0) {
      return absl::NotFoundError(absl::StrCat(what, ": no such parent directory"));
    }
    if (files_.count(key) > 0) return absl::AlreadyExistsError(absl::StrCat(what, ": a file exists"));
    return absl::OkStatus();
  };
  FAULTLINE_RETURN_IF_ERROR(check());
  auto decision = BeginOp(DiskOp::kCreateDir, what, CurrentTicket());
  if (!decision.ok()) return decision.status();
  FAULTLINE_RETURN_IF_ERROR(check());
  if (decision->eio) return FailMetadataOp(what);
  if (dirs_.count(key) == 0) {
    if (decision->no_space) return io::NoSpaceError(what);
    dirs_.insert(key);
    LogNamespaceOp(NamespaceOp{.kind = NamespaceOp::Kind::kMkdir, .path = key});
  }
  if (decision->crash_after) return CrashFromOp(decision->crash_kind, "disk fault plan", what);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> SimFileSystem::DoList(const std::string& key,
                                                               const std::string& what) {
  FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(key, /*allow_root=*/true));
  if (!key.empty() && dirs_.count(key) == 0) {
    if (files_.count(key) > 0) return io::ErrnoToStatus(ENOTDIR, what);
    return absl::NotFoundError(absl::StrCat(what, ": no such directory"));
  }
  const std::string prefix = key.empty() ? std::string() : key + "/";
  std::vector<std::string> names;
  auto collect = [&](const std::string& path) {
    const std::string_view rest = std::string_view(path).substr(prefix.size());
    if (!rest.empty() && rest.find('/') == std::string_view::npos) names.emplace_back(rest);
  };
  for (auto it = files_.lower_bound(prefix); it != files_.end() && it->first.starts_with(prefix); ++it) {
    collect(it->first);
  }
  for (auto it = dirs_.lower_bound(prefix); it != dirs_.end() && it->starts_with(prefix); ++it) {
    collect(*it);
  }
  std::sort(names.begin(), names.end());
  return names;
}

absl::Status SimFileSystem::DoSyncDir(const std::string& key, const std::string& what) {
  auto check = [&]() -> absl::Status {
    FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(key, /*allow_root=*/true));
    if (!key.empty() && dirs_.count(key) == 0) {
      return absl::NotFoundError(absl::StrCat(what, ": no such directory"));
    }
    return absl::OkStatus();
  };
  FAULTLINE_RETURN_IF_ERROR(check());
  auto decision = BeginOp(DiskOp::kSyncDir, what, CurrentTicket());
  if (!decision.ok()) return decision.status();
  FAULTLINE_RETURN_IF_ERROR(check());
  // A failed directory sync leaves its ops pending: a crash decides them.
  if (decision->eio) {
    NoteFailure(DiskOp::kSyncDir, what);
    return io::IoError(what, io::IoFailure::kDataAtRisk);
  }
  if (ApplyDirSync(durable_, namespace_ops_, key) > 0) {
    RecountNamespaceRefs();
    // A removed file whose removal is now durable may be freed; so may a
    // file a rename replaced (its inode lost its durable name).
    const std::set<uint64_t> candidates = unreachable_candidates_;
    for (uint64_t inode_id : candidates) MaybeFreeInode(inode_id);
  }
  if (decision->crash_after) return CrashFromOp(decision->crash_kind, "disk fault plan", what);
  return absl::OkStatus();
}

}  // namespace faultline::sim::disk
