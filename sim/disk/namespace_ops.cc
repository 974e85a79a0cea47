// sim/disk/namespace_ops.cc — durable names, directory syncs in issue order,
// and the ordering a crash respects (see namespace_ops.h).
#include "sim/disk/namespace_ops.h"

#include <algorithm>
#include <utility>

#include "core/base/check.h"
#include "core/io/file_system.h"

namespace faultline::sim::disk {
namespace {

// The keys an op TOUCHES: its names ("n:"), its inode ("i:") and the
// directories its names are in ("c:"). An op NEEDS its names and inode, and
// a directory's removal needs its children ("c:" + the directory), a rename
// and a mkdir the name of the directory they put an entry in ("n:" + it:
// its mkdir). A later
// op is ordered after an earlier one when it needs a key the earlier touches.
void AddKey(std::vector<std::string>& keys, char kind, std::string_view value) {
  std::string key(1, kind);
  key.push_back(':');
  key.append(value);
  keys.push_back(std::move(key));
}

bool IsRename(NamespaceOp::Kind kind) {
  return kind == NamespaceOp::Kind::kRename || kind == NamespaceOp::Kind::kRenameDir;
}

// For directory renames: every op touches "d:" + each directory above its
// names (a directory rename needs the ones of its source and target), and
// needs "r:" + each of them (a directory rename touches those of its source
// and target). Only directory renames touch "r:" or need "d:" keys, so
// without them these keys select and force nothing.
void AddAncestorKeys(std::vector<std::string>& keys, char kind, std::string_view path) {
  // Bounded by the path's depth.
  for (std::string_view dir = io::ParentDir(path); !dir.empty(); dir = io::ParentDir(dir)) {
    AddKey(keys, kind, dir);
  }
}

std::vector<std::string> TouchedKeys(const NamespaceOp& op) {
  std::vector<std::string> keys;
  AddKey(keys, 'n', op.path);
  AddKey(keys, 'c', io::ParentDir(op.path));
  AddAncestorKeys(keys, 'd', op.path);
  if (IsRename(op.kind)) {
    AddKey(keys, 'n', op.to_path);
    AddKey(keys, 'c', io::ParentDir(op.to_path));
    AddAncestorKeys(keys, 'd', op.to_path);
  }
  if (op.kind == NamespaceOp::Kind::kRenameDir) {
    AddKey(keys, 'r', op.path);
    AddKey(keys, 'r', op.to_path);
  }
  if (op.inode != 0) AddKey(keys, 'i', std::to_string(op.inode));
  return keys;
}

std::vector<std::string> NeededKeys(const NamespaceOp& op) {
  std::vector<std::string> keys;
  AddKey(keys, 'n', op.path);
  AddAncestorKeys(keys, 'r', op.path);
  if (IsRename(op.kind)) AddAncestorKeys(keys, 'r', op.to_path);
  if (op.kind == NamespaceOp::Kind::kRenameDir) {
    AddKey(keys, 'd', op.path);
    AddKey(keys, 'd', op.to_path);
  }
  // A rename's new entry, and a new directory, live in a directory: they
  // cannot outlive its creation (a dropped mkdir would orphan them, and a
  // durable file renamed there would be lost with it).
  if (IsRename(op.kind)) {
    AddKey(keys, 'n', op.to_path);
    const std::string_view target_dir = io::ParentDir(op.to_path);
    if (!target_dir.empty()) AddKey(keys, 'n', target_dir);
  }
  if (op.kind == NamespaceOp::Kind::kMkdir && !io::ParentDir(op.path).empty()) {
    AddKey(keys, 'n', io::ParentDir(op.path));
  }
  if (op.inode != 0) AddKey(keys, 'i', std::to_string(op.inode));
  if (op.kind == NamespaceOp::Kind::kRemove && op.inode == 0) AddKey(keys, 'c', op.path);
  return keys;
}

// Marks the parents `dir` covers; true when the op is now ready.
bool MarkSynced(NamespaceOp& op, std::string_view dir) {
  if (io::ParentDir(op.path) == dir) {
    op.source_dir_synced = true;
    if (!IsRename(op.kind)) op.target_dir_synced = true;
  }
  if (IsRename(op.kind) && io::ParentDir(op.to_path) == dir) {
    op.target_dir_synced = true;
  }
  return op.source_dir_synced && op.target_dir_synced;
}

bool Under(std::string_view path, std::string_view dir) {
  return path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/';
}

// Moves durable directory `from` and everything under it to `to`, which it
// replaces (ordering made `to` empty first). Bounded by the durable entries.
void RenameDirectory(DurableState& state, const std::string& from, const std::string& to) {
  if (state.dirs.count(from) == 0) return;  // its creation never became durable
  std::vector<std::string> dirs;
  std::vector<std::pair<std::string, uint64_t>> files;
  for (const std::string& dir : state.dirs) {
    if (dir == to || Under(dir, to)) dirs.push_back(dir);  // the replaced target
  }
  for (const std::string& dir : dirs) state.dirs.erase(dir);
  for (const auto& [path, inode] : state.files) {
    if (Under(path, to)) files.emplace_back(path, 0);
  }
  for (const auto& [path, unused] : files) state.EraseName(path);
  dirs.clear();
  files.clear();
  for (const std::string& dir : state.dirs) {
    if (dir == from || Under(dir, from)) dirs.push_back(dir);
  }
  for (const auto& [path, inode] : state.files) {
    if (Under(path, from)) files.emplace_back(path, inode);
  }
  for (const std::string& dir : dirs) {
    state.dirs.erase(dir);
    state.dirs.insert(to + dir.substr(from.size()));
  }
  for (const auto& [path, inode] : files) state.SetName(to + path.substr(from.size()), inode);
}

}  // namespace

void DurableState::SetName(const std::string& path, uint64_t inode) {
  FAULTLINE_CHECK(inode != 0);
  auto old_name = names.find(inode);
  if (old_name != names.end()) {
    files.erase(old_name->second);
    names.erase(old_name);
  }
  EraseName(path);
  files.emplace(path, inode);
  names.emplace(inode, path);
}

void DurableState::EraseName(const std::string& path) {
  auto it = files.find(path);
  if (it == files.end()) return;
  names.erase(it->second);
  files.erase(it);
}

DiskImage DurableState::ToImage() const {
  DiskImage image;
  image.dirs = dirs;
  for (const auto& [path, inode] : files) {
    auto it = inodes.find(inode);
    image.files.emplace(path, it == inodes.end() ? std::string() : it->second);
  }
  return image;
}

DurableState DurableState::FromImage(const DiskImage& image, uint64_t first_inode) {
  DurableState state;
  state.dirs = image.dirs;
  uint64_t next_inode = first_inode;
  for (const auto& [path, bytes] : image.files) {
    state.SetName(path, next_inode);
    state.inodes.emplace(next_inode, bytes);
    ++next_inode;
  }
  return state;
}

void ApplyNamespaceOp(DurableState& state, const NamespaceOp& op) {
  switch (op.kind) {
    case NamespaceOp::Kind::kCreate:
      state.SetName(op.path, op.inode);
      return;
    case NamespaceOp::Kind::kRename:
      state.SetName(op.to_path, op.inode);
      return;
    case NamespaceOp::Kind::kRemove: {
      if (op.inode == 0) {  // a directory
        state.dirs.erase(op.path);
        return;
      }
      auto it = state.files.find(op.path);
      if (it != state.files.end() && it->second == op.inode) state.EraseName(op.path);
      return;
    }
    case NamespaceOp::Kind::kMkdir:
      state.dirs.insert(op.path);
      return;
    case NamespaceOp::Kind::kRenameDir:
      RenameDirectory(state, op.path, op.to_path);
      return;
  }
}

size_t ApplyDirSync(DurableState& state, std::vector<NamespaceOp>& ops, std::string_view dir) {
  std::vector<bool> selected(ops.size(), false);
  bool any = false;
  for (size_t i = 0; i < ops.size(); ++i) {
    selected[i] = MarkSynced(ops[i], dir);
    any = any || selected[i];
  }
  if (!any) return 0;
  // Which ops touch each key, in issue order.
  std::map<std::string, std::vector<size_t>> touching;
  for (size_t i = 0; i < ops.size(); ++i) {
    for (std::string& key : TouchedKeys(ops[i])) touching[std::move(key)].push_back(i);
  }
  // Newest first: the first expansion of a key (from the newest op needing
  // it) selects every earlier op touching it, so each key expands once.
  std::set<std::string> expanded;
  for (size_t i = ops.size(); i > 0; --i) {
    if (!selected[i - 1]) continue;
    for (std::string& key : NeededKeys(ops[i - 1])) {
      if (!expanded.insert(key).second) continue;
      for (size_t j : touching[key]) {
        if (j >= i - 1) break;
        selected[j] = true;
      }
    }
  }
  size_t kept = 0;
  size_t applied = 0;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (selected[i]) {
      ApplyNamespaceOp(state, ops[i]);
      ++applied;
    } else {
      if (kept != i) ops[kept] = std::move(ops[i]);
      ++kept;
    }
  }
  ops.resize(kept);
  return applied;
}

bool NamespaceCrashOrder::Forced(const NamespaceOp& op) const {
  if (broken_keys_.empty()) return false;
  const std::vector<std::string> needed = NeededKeys(op);
  return std::any_of(needed.begin(), needed.end(),
                     [&](const std::string& key) { return broken_keys_.count(key) > 0; });
}

void NamespaceCrashOrder::Decided(const NamespaceOp& op, bool persisted) {
  if (persisted) return;
  for (std::string& key : TouchedKeys(op)) broken_keys_.insert(std::move(key));
}

}  // namespace faultline::sim::disk
