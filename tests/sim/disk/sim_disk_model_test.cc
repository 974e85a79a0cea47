// tests/sim/disk/sim_disk_model_test.cc — the simulated disk against a model
// of its cache, over several handles, several directories, renames within
// and across directories, removes, and crashes of both kinds mid-run:
//  * after every op the cache view equals the model (so no two names ever
//    share an inode, and a handle writes only its own file);
//  * after a power loss the cache equals the durable image, and every file
//    that was durable (name and data) at the last "sync everything" and
//    untouched since survives with its bytes; the model adopts the image;
//  * after a power loss, a file that was durable at the last "sync
//    everything" and since then only renamed (not written, truncated,
//    removed or replaced) survives with its bytes under one of the names it
//    had since: a rename is atomic across a crash, never "neither name";
//  * after a process crash nothing changes: the model stays as it was; a
//    power loss while the node is down after it is a power loss as above;
//  * "sync everything" (every file, then every directory, in a drawn
//    order) makes durable == cache == model.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cerrno>
#include <map>
#include <ostream>
#include <set>
#include <memory>
#include <string>
#include <vector>

#include "core/io/errors.h"
#include "sim/disk/sim_file_system.h"
#include "tests/sim/disk/sim_disk_world.h"

namespace faultline::sim::disk {
namespace {

using testing::Bytes;
using testing::World;

const char* const kDirs[] = {"", "d1", "d2", "d3"};  // d3 comes and goes
constexpr int kDirCount = 4;
constexpr int kNames = 3;        // names per directory
constexpr size_t kMaxHandles = 6;

std::string PathOf(int dir, int name) {
  return io::JoinPath(kDirs[dir], "f" + std::to_string(name));
}

struct Op {
  enum Kind {
    kOpen, kWrite, kAppend, kTruncate, kSync, kClose, kSyncDir, kRename, kRemove,
    kSyncAll, kPowerLoss, kProcessCrash, kMkdir, kRmdir, kProcessCrashThenPowerLoss,
    kKindCount
  };
  int kind = kOpen;
  int a = 0;  // handle index, or source dir
  int b = 0;  // source name, or offset
  int c = 0;  // target dir, or length
  int d = 0;  // target name
};

void showValue(const Op& op, std::ostream& os) {
  static const char* const kNamesOfKinds[] = {"open", "write", "append", "truncate", "sync",
                                              "close", "sync_dir", "rename", "remove",
                                              "sync_all", "power_loss", "process_crash",
                                              "mkdir", "rmdir", "process_crash_then_power_loss"};
  os << kNamesOfKinds[op.kind] << "(" << op.a << "," << op.b << "," << op.c << "," << op.d << ")";
}

rc::Gen<Op> GenOp() {
  return rc::gen::apply(
      [](int kind, int a, int b, int c, int d) { return Op{kind, a, b, c, d}; },
      rc::gen::weightedElement<int>({{4, Op::kOpen}, {5, Op::kWrite}, {4, Op::kAppend},
                                     {1, Op::kTruncate}, {3, Op::kSync}, {2, Op::kClose},
                                     {3, Op::kSyncDir}, {4, Op::kRename}, {2, Op::kRemove},
                                     {1, Op::kSyncAll}, {1, Op::kPowerLoss},
                                     {1, Op::kProcessCrash}, {1, Op::kMkdir},
                                     {1, Op::kRmdir}, {1, Op::kProcessCrashThenPowerLoss}}),
      rc::gen::inRange(0, 8), rc::gen::inRange(0, 1200), rc::gen::inRange(0, 700),
      rc::gen::inRange(0, kNames));
}

struct Model {
  std::map<std::string, int> names;        // path → model file
  std::map<int, std::string> bytes;        // model file → content
  std::map<int, bool> stable;              // durable and untouched since the last sync-all
  // Durable at the last sync-all, and since then only renamed: the names it
  // had since (a file missing here was created, written, removed or
  // replaced since).
  std::map<int, std::set<std::string>> renamed_only;
  bool d3 = false;                         // whether directory d3 exists
  int next_file = 0;

  bool DirExists(int dir) const { return dir != 3 || d3; }

  DiskImage Image() const {
    DiskImage image;
    image.dirs = {"d1", "d2"};
    if (d3) image.dirs.insert("d3");
    for (const auto& [path, file] : names) image.files[path] = bytes.at(file);
    return image;
  }
  void Adopt(const DiskImage& image) {
    names.clear();
    bytes.clear();
    stable.clear();
    renamed_only.clear();
    d3 = image.dirs.count("d3") > 0;
    for (const auto& [path, content] : image.files) {
      names[path] = next_file;
      bytes[next_file] = content;
      stable[next_file] = false;
      ++next_file;
    }
  }
};

struct Handle {
  std::unique_ptr<io::File> file;
  int model_file = 0;
};

class ModelRun {
 public:
  explicit ModelRun(uint64_t seed) : world_({}, {}, seed) {
    RC_ASSERT(world_.fs().CreateDir("d1").ok());
    RC_ASSERT(world_.fs().CreateDir("d2").ok());
    RC_ASSERT(world_.fs().SyncDir("").ok());
  }

  void Step(const Op& op, uint64_t op_id) {
    switch (op.kind) {
      case Op::kOpen: return Open(op);
      case Op::kWrite:
      case Op::kAppend:
      case Op::kTruncate: return Write(op, op_id);
      case Op::kSync:
        if (Handle* handle = HandleOf(op)) RC_ASSERT(handle->file->Sync().ok());
        return;
      case Op::kClose:
        if (!handles_.empty()) handles_.erase(handles_.begin() + op.a % handles_.size());
        return;
      case Op::kSyncDir: {
        const int dir = op.a % kDirCount;
        const absl::Status status = world_.fs().SyncDir(kDirs[dir]);
        const bool expected = model_.DirExists(dir) ? status.ok() : absl::IsNotFound(status);
        RC_ASSERT(expected);
        return;
      }
      case Op::kMkdir:
        RC_ASSERT(world_.fs().CreateDir("d3").ok());
        model_.d3 = true;
        return;
      case Op::kRmdir: return Rmdir();
      case Op::kRename: return Rename(op);
      case Op::kRemove: return Remove(op);
      case Op::kSyncAll: return SyncAll(op.a % 2 == 0);
      case Op::kPowerLoss: return PowerLoss();
      case Op::kProcessCrash: return ProcessCrash();
      case Op::kProcessCrashThenPowerLoss: return ProcessCrashThenPowerLoss();
    }
  }

  void CheckCache() { RC_ASSERT(world_.disk.CacheImage(world_.node) == model_.Image()); }

  void SyncAll(bool dirs_first) {
    // Open handles of removed or replaced files hold pending data too.
    for (Handle& handle : handles_) RC_ASSERT(handle.file->Sync().ok());
    for (const auto& [path, file] : model_.names) {
      auto handle = world_.fs().Open(path, io::OpenMode::kReadWrite);
      RC_ASSERT(handle.ok());
      RC_ASSERT((*handle)->Sync().ok());
    }
    const char* const order[] = {dirs_first ? "d2" : "", "d1", "d3", dirs_first ? "" : "d2"};
    for (const char* dir : order) {
      if (std::string(dir) == "d3" && !model_.d3) continue;
      RC_ASSERT(world_.fs().SyncDir(dir).ok());
    }
    RC_ASSERT(world_.fs().pending_op_count() == 0u);
    const DiskImage expected = model_.Image();
    RC_ASSERT(world_.disk.DurableImage(world_.node) == expected);
    RC_ASSERT(world_.disk.CacheImage(world_.node) == expected);
    for (auto& [file, stable] : model_.stable) stable = true;
    model_.renamed_only.clear();
    for (const auto& [path, file] : model_.names) model_.renamed_only[file] = {path};
  }

 private:
  Handle* HandleOf(const Op& op) {
    return handles_.empty() ? nullptr : &handles_[op.a % handles_.size()];
  }
  void Touch(int file) {
    model_.stable[file] = false;
    model_.renamed_only.erase(file);
  }

  void Open(const Op& op) {
    if (handles_.size() >= kMaxHandles) return;
    const int dir = op.a % kDirCount;
    const std::string path = PathOf(dir, op.d);
    auto file = world_.fs().Open(path, io::OpenMode::kCreate);
    if (!model_.DirExists(dir)) {
      RC_ASSERT(absl::IsNotFound(file.status()));
      return;
    }
    RC_ASSERT(file.ok());
    if (model_.names.count(path) == 0) {
      model_.names[path] = model_.next_file;
      model_.bytes[model_.next_file] = "";
      model_.stable[model_.next_file] = false;
      ++model_.next_file;
    }
    handles_.push_back(Handle{std::move(*file), model_.names[path]});
  }

  void Write(const Op& op, uint64_t op_id) {
    Handle* handle = HandleOf(op);
    if (handle == nullptr) return;
    std::string& bytes = model_.bytes[handle->model_file];
    Touch(handle->model_file);
    if (op.kind == Op::kTruncate) {
      RC_ASSERT(handle->file->Truncate(static_cast<uint64_t>(op.b)).ok());
      bytes.resize(static_cast<size_t>(op.b), '\0');
      return;
    }
    const std::string data(static_cast<size_t>(op.c) + 1, static_cast<char>('A' + op_id % 26));
    const uint64_t offset = op.kind == Op::kAppend ? bytes.size() : static_cast<uint64_t>(op.b);
    if (op.kind == Op::kAppend) {
      RC_ASSERT(handle->file->Append(Bytes(data)).ok());
    } else {
      RC_ASSERT(handle->file->WriteAt(offset, Bytes(data)).ok());
    }
    if (bytes.size() < offset + data.size()) bytes.resize(offset + data.size(), '\0');
    bytes.replace(offset, data.size(), data);
  }

  void Rename(const Op& op) {
    const std::string from = PathOf(op.a % kDirCount, op.b % kNames);
    const std::string to = PathOf(op.c % kDirCount, op.d);
    const absl::Status status = world_.fs().Rename(from, to);
    auto source = model_.names.find(from);
    if (source == model_.names.end() || !model_.DirExists(op.c % kDirCount)) {
      RC_ASSERT(absl::IsNotFound(status));
      return;
    }
    RC_ASSERT(status.ok());
    if (from == to) return;
    const int file = source->second;
    model_.names.erase(source);
    auto target = model_.names.find(to);
    if (target != model_.names.end()) Touch(target->second);
    model_.names[to] = file;
    model_.stable[file] = false;
    auto renamed = model_.renamed_only.find(file);
    if (renamed != model_.renamed_only.end()) renamed->second.insert(to);
  }

  void Remove(const Op& op) {
    const std::string path = PathOf(op.a % kDirCount, op.b % kNames);
    const absl::Status status = world_.fs().Remove(path);
    auto found = model_.names.find(path);
    if (found == model_.names.end()) {
      RC_ASSERT(absl::IsNotFound(status));
      return;
    }
    RC_ASSERT(status.ok());
    Touch(found->second);
    model_.names.erase(found);
  }

  void Rmdir() {
    const absl::Status status = world_.fs().Remove("d3");
    if (!model_.d3) {
      RC_ASSERT(absl::IsNotFound(status));
      return;
    }
    auto child = model_.names.lower_bound("d3/");
    if (child != model_.names.end() && child->first.starts_with("d3/")) {
      RC_ASSERT(io::ErrnoOf(status) == ENOTEMPTY);
      return;
    }
    RC_ASSERT(status.ok());
    model_.d3 = false;
  }

  void PowerLoss() {
    handles_.clear();
    world_.CrashAndRestart();
    CheckAfterPowerLoss();
  }

  void ProcessCrashThenPowerLoss() {
    handles_.clear();
    world_.scheduler.Crash(world_.node, "model");
    world_.disk.CrashProcess(world_.node);
    world_.disk.PowerLoss(world_.node);
    world_.scheduler.Restart(world_.node, "main", [] {});
    CheckAfterPowerLoss();
  }

  void CheckAfterPowerLoss() {
    const DiskImage image = world_.disk.CacheImage(world_.node);
    RC_ASSERT(world_.disk.DurableImage(world_.node) == image);
    RC_ASSERT(world_.fs().pending_op_count() == 0u);
    for (const auto& [path, file] : model_.names) {
      if (!model_.stable[file]) continue;
      auto found = image.files.find(path);
      RC_ASSERT(found != image.files.end());
      RC_ASSERT(found->second == model_.bytes[file]);
    }
    for (const auto& [file, names] : model_.renamed_only) {
      const bool survives = std::any_of(names.begin(), names.end(), [&](const std::string& path) {
        auto found = image.files.find(path);
        return found != image.files.end() && found->second == model_.bytes[file];
      });
      RC_ASSERT(survives);
    }
    model_.Adopt(image);
  }

  void ProcessCrash() {
    world_.scheduler.Crash(world_.node, "model");
    world_.disk.CrashProcess(world_.node);
    for (Handle& handle : handles_) {
      RC_ASSERT(io::IsNodeDead(handle.file->Append(Bytes("x"))));
    }
    handles_.clear();
    world_.scheduler.Restart(world_.node, "main", [] {});
  }

  World world_;
  Model model_;
  std::vector<Handle> handles_;
};

RC_GTEST_PROP(SimDiskModel, CacheMatchesModelAndSyncEverythingMakesItDurable, ()) {
  const uint64_t seed = *rc::gen::inRange<uint64_t>(1, 1'000'000);
  const std::vector<Op> ops = *rc::gen::resize(80, rc::gen::container<std::vector<Op>>(GenOp()));
  ModelRun run(seed);
  uint64_t op_id = 0;
  for (const Op& op : ops) {
    run.Step(op, ++op_id);
    run.CheckCache();
  }
  run.SyncAll(/*dirs_first=*/seed % 2 == 0);
}

}  // namespace
}  // namespace faultline::sim::disk
