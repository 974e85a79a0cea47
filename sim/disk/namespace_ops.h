// sim/disk/namespace_ops.h — durable names and pending namespace operations:
// which pending creates, renames, removes and mkdirs a directory sync makes
// durable, and which ones a crash may keep.
//
// A file has exactly one name (there are no hard links). Namespace ops are
// logged in issue order. Two ops are ORDERED when the later one touches what
// the earlier one touched: the same inode, the same name, for the removal of
// directory d any name directly inside d (the ops that emptied it), and for
// a rename into directory d or a mkdir of a subdirectory of d the name d
// itself (its mkdir or rmdir: a durable file renamed into a new directory
// is never lost with that directory's, or its parent's, creation). A real
// journaling file system commits ordered ops in order, so:
//
//  * SyncDir(d) makes durable every pending op that is READY in d, and with
//    each one every earlier op it is ordered after, transitively, applied in
//    issue order. An op is ready when the parent directory of each name it
//    touches has been synced since it was issued: a create, remove or mkdir
//    by one sync of its parent; a rename across directories only once BOTH
//    parents have been synced (each sync marks its side).
//  * A crash decides each pending op independently, except that an op whose
//    earlier ordered op was dropped is dropped too (no draw is made for it):
//    a rename never survives without the create before it, nor without the
//    mkdir of its target directory, and a name is never reused in the
//    durable image while the file it named lost it.
//
// Applying a create or a rename first erases every other durable name of the
// inode, so the durable image never names one inode twice.
//
// A directory rename (kRenameDir) moves the directory and everything named
// under it, replacing an empty target directory. It follows the rules of a
// file rename (durable once both parents are synced), and is ordered after
// every earlier op on a name inside the source or the target (all of them
// are made durable with it), and before every later op on a name inside
// either (a crash that drops it drops those too).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::sim::disk {

// The visible content of a node's storage: regular files by path, and
// directories (the root "" is implied and never listed). Value type,
// ordered, comparable: crash states are deduplicated as DiskImages.
struct DiskImage {
  std::map<std::string, std::string> files;
  std::set<std::string> dirs;

  auto operator<=>(const DiskImage&) const = default;
  bool operator==(const DiskImage&) const = default;
};

struct NamespaceOp {
  enum class Kind : uint8_t { kCreate, kRename, kRemove, kMkdir, kRenameDir };
  Kind kind = Kind::kCreate;
  std::string path;     // created/removed path, or rename source
  std::string to_path;  // rename target (kRename, kRenameDir)
  uint64_t inode = 0;   // the file's inode (0 for kMkdir, kRenameDir, a directory's kRemove)
  // Which parents a SyncDir has covered since the op was issued (a rename
  // within one directory, and every other kind, has both set by one sync).
  bool source_dir_synced = false;
  bool target_dir_synced = false;
};

// The durable image with inode identity: a file's name and its bytes become
// durable separately (SyncDir vs File::Sync). Change names only through
// SetName / EraseName, which keep `names` the inverse of `files`.
struct DurableState {
  std::map<std::string, uint64_t> files;    // path → inode
  std::map<uint64_t, std::string> names;    // inode → its one durable name
  std::set<std::string> dirs;               // never contains ""
  std::map<uint64_t, std::string> inodes;   // inode → bytes (size = length)

  // Names `inode` `path`: the inode's other name and `path`'s old inode go.
  void SetName(const std::string& path, uint64_t inode);
  void EraseName(const std::string& path);
  DiskImage ToImage() const;
  static DurableState FromImage(const DiskImage& image, uint64_t first_inode);
};

// Applies one namespace op to a durable image (SyncDir and crash).
void ApplyNamespaceOp(DurableState& state, const NamespaceOp& op);

// SyncDir(`dir`): marks the ops of `ops` that `dir` covers, applies to
// `state` every ready op with the ops it is ordered after (see above), in
// issue order, and removes them from `ops`. Returns how many were applied.
// Cost O(n log n) in the number of pending ops.
size_t ApplyDirSync(DurableState& state, std::vector<NamespaceOp>& ops, std::string_view dir);

// Crash decisions under the ordering rule: call Forced(op) for each pending
// op in issue order; when it returns true the op must be dropped without a
// decision; then report the outcome with Decided.
class NamespaceCrashOrder {
 public:
  bool Forced(const NamespaceOp& op) const;
  void Decided(const NamespaceOp& op, bool persisted);

 private:
  std::set<std::string> broken_keys_;  // keys of dropped ops
};

}  // namespace faultline::sim::disk
