// tests/sim/disk/sim_disk_property_test.cc — RapidCheck properties of the
// simulated disk against a reference model:
//  * without a crash every read equals a std::string model (faults off, and
//    with misdirected writes on, which only the device sees);
//  * after a crash every file is a legal crash state: each byte is the
//    durable old byte, a byte of a pending write covering it, a zero past a
//    size some pending op could have left, or (only with garbage enabled)
//    anything inside a pending write's range; the size is one some op set;
//    synced bytes no pending op touches survive — on a device with powersafe
//    overwrite. Without it (DiskOptions::powersafe_overwrite = false) a torn
//    write may trash the whole physical sectors it touches, so synced bytes
//    that only share a physical sector with a pending write may be anything;
//  * a create or rename without a directory sync may vanish, never corrupt;
//  * data whose sync failed never becomes durable through a later sync;
//  * the same seed gives the same crash state and trace hash.
// Ops run on the test thread (no fiber needed: no latency, no stuck disk).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <memory>
#include <string>
#include <vector>

#include "core/io/errors.h"
#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::sim::disk {
namespace {

constexpr int kFiles = 2;

absl::Span<const char> Bytes(const std::string& text) { return {text.data(), text.size()}; }

// The byte a write with id `op_id` puts at file offset `offset`: position
// dependent, never zero, so misplaced or mixed-up bytes are detectable.
char PatternByte(uint64_t op_id, uint64_t offset) {
  return static_cast<char>(1 + (op_id * 131 + offset * 7) % 251);
}

std::string Pattern(uint64_t op_id, uint64_t offset, uint64_t length_bytes) {
  std::string bytes(length_bytes, '\0');
  for (uint64_t i = 0; i < length_bytes; ++i) bytes[i] = PatternByte(op_id, offset + i);
  return bytes;
}

struct Op {
  enum Kind { kWrite = 0, kAppend = 1, kTruncate = 2, kSync = 3, kRead = 4 };
  int kind = kWrite;
  int file = 0;
  uint64_t offset = 0;
  uint64_t length_bytes = 0;
};

rc::Gen<Op> GenOp(bool with_sync) {
  return rc::gen::apply(
      [](int kind, int file, int offset, int length) {
        return Op{kind, file, static_cast<uint64_t>(offset), static_cast<uint64_t>(length)};
      },
      rc::gen::inRange(0, with_sync ? 5 : 3), rc::gen::inRange(0, kFiles),
      rc::gen::inRange(0, 3000), rc::gen::inRange(0, 1500));
}

std::string FileName(int file) { return "f" + std::to_string(file); }

struct World {
  World(uint64_t seed, FaultPlan plan, DiskOptions options = {})
      : scheduler(SchedulerOptions{.seed = seed}),
        node(scheduler.AddNode("n1")),
        disk(scheduler, options, std::move(plan)) {}
  SimFileSystem& fs() { return disk.ForNode(node); }
  void Crash() {
    scheduler.Crash(node, "property");
    disk.Crash(node);
  }
  Scheduler scheduler;
  NodeId node;
  SimDisk disk;
};

// A model of one file: the cache view, the durable view and the ops pending
// since the last successful sync.
struct PendingWrite {
  uint64_t offset;
  std::string bytes;
};
struct FileModel {
  std::string cache;
  std::string durable;
  std::vector<PendingWrite> writes;
  std::vector<uint64_t> truncates;  // sizes
};

void ApplyToString(std::string& bytes, uint64_t offset, const std::string& data) {
  if (data.empty()) return;  // like pwrite(2): zero bytes change nothing, not even the size
  if (bytes.size() < offset + data.size()) bytes.resize(offset + data.size(), '\0');
  std::copy(data.begin(), data.end(), bytes.begin() + static_cast<std::ptrdiff_t>(offset));
}

// Whether byte `p` shares a physical sector of `physical_bytes` with a
// pending write (the bytes a non-powersafe tear may trash).
bool SharesPhysicalSector(const FileModel& model, uint64_t p, uint64_t physical_bytes) {
  for (const PendingWrite& write : model.writes) {
    if (write.bytes.empty()) continue;
    const uint64_t first = write.offset / physical_bytes;
    const uint64_t last = (write.offset + write.bytes.size() - 1) / physical_bytes;
    if (p / physical_bytes >= first && p / physical_bytes <= last) return true;
  }
  return false;
}

// Whether `after` is a legal crash outcome of `model` (see the file comment).
// `physical_bytes` is 0 on a device with powersafe overwrite, else its
// physical sector size.
void CheckLegalCrashState(const FileModel& model, const std::string& after, bool garbage_allowed,
                          uint64_t physical_bytes = 0) {
  std::vector<uint64_t> legal_sizes = {model.durable.size()};
  uint64_t zeros_from = model.durable.size();
  for (uint64_t size : model.truncates) {
    legal_sizes.push_back(size);
    zeros_from = std::min(zeros_from, size);
  }
  for (const PendingWrite& write : model.writes) {
    legal_sizes.push_back(write.offset + write.bytes.size());
  }
  RC_ASSERT(std::find(legal_sizes.begin(), legal_sizes.end(), after.size()) != legal_sizes.end());
  if (model.truncates.empty()) RC_ASSERT(after.size() >= model.durable.size());
  for (uint64_t p = 0; p < after.size(); ++p) {
    const char value = after[p];
    bool covered = false;
    bool legal = (p < model.durable.size() && value == model.durable[p]) ||
                 (p >= zeros_from && value == '\0');
    for (const PendingWrite& write : model.writes) {
      if (p >= write.offset && p < write.offset + write.bytes.size()) {
        covered = true;
        legal = legal || value == write.bytes[p - write.offset];
      }
    }
    if (garbage_allowed && covered) legal = true;
    const bool trashable = physical_bytes != 0 && SharesPhysicalSector(model, p, physical_bytes);
    if (trashable) continue;  // no powersafe overwrite: the whole physical sector may be lost
    if (!legal) RC_FAIL("byte " + std::to_string(p) + " is not a legal crash outcome");
    // Synced bytes that nothing pending touches survive.
    if (!covered && p < zeros_from && p < model.durable.size()) RC_ASSERT(value == model.durable[p]);
  }
}

// Runs `ops` against the disk and the model. Returns false if an op failed.
void RunOps(World& world, std::vector<std::unique_ptr<io::File>>& files,
            std::vector<FileModel>& models, const std::vector<Op>& ops) {
  uint64_t op_id = 0;
  for (const Op& op : ops) {
    ++op_id;
    io::File& file = *files[op.file];
    FileModel& model = models[op.file];
    switch (op.kind) {
      case Op::kWrite:
      case Op::kAppend: {
        const uint64_t offset = op.kind == Op::kAppend ? model.cache.size() : op.offset;
        const std::string data = Pattern(op_id, offset, op.length_bytes);
        if (op.kind == Op::kAppend) {
          RC_ASSERT(file.Append(Bytes(data)).ok());
        } else {
          RC_ASSERT(file.WriteAt(offset, Bytes(data)).ok());
        }
        ApplyToString(model.cache, offset, data);
        model.writes.push_back({offset, data});
        break;
      }
      case Op::kTruncate: {
        const uint64_t size = op.offset;
        RC_ASSERT(file.Truncate(size).ok());
        model.cache.resize(size, '\0');
        model.truncates.push_back(size);
        break;
      }
      case Op::kSync:
        RC_ASSERT(file.Sync().ok());
        model.durable = model.cache;
        model.writes.clear();
        model.truncates.clear();
        break;
      case Op::kRead: {
        std::string out(op.length_bytes, '\0');
        auto read = file.ReadAt(op.offset, absl::Span<char>(out.data(), out.size()));
        RC_ASSERT(read.ok());
        out.resize(*read);
        const std::string expected = op.offset >= model.cache.size()
                                         ? std::string()
                                         : model.cache.substr(op.offset, op.length_bytes);
        RC_ASSERT(out == expected);
        break;
      }
    }
    RC_ASSERT(file.Size().value() == model.cache.size());
  }
  (void)world;
}

// Creates the files and makes their names durable, so only data is at stake.
void OpenFiles(World& world, std::vector<std::unique_ptr<io::File>>& files,
               std::vector<FileModel>& models) {
  for (int f = 0; f < kFiles; ++f) {
    auto file = world.fs().Open(FileName(f), io::OpenMode::kCreateExclusive);
    RC_ASSERT(file.ok());
    files.push_back(std::move(*file));
    models.emplace_back();
  }
  RC_ASSERT(world.fs().SyncDir("").ok());
}

RC_GTEST_PROP(SimDiskProperty, WithoutCrashReadsMatchModel, ()) {
  const auto ops = *rc::gen::container<std::vector<Op>>(GenOp(/*with_sync=*/true));
  const bool misdirect = *rc::gen::arbitrary<bool>();
  FaultPlan plan;
  if (misdirect) plan.rates.misdirect_write_ppm = 300'000;  // only the device sees them
  World world(*rc::gen::arbitrary<uint64_t>(), plan);
  std::vector<std::unique_ptr<io::File>> files;
  std::vector<FileModel> models;
  OpenFiles(world, files, models);
  RunOps(world, files, models, ops);
  for (int f = 0; f < kFiles; ++f) RC_ASSERT(world.disk.CacheImage(world.node).files.at(FileName(f)) == models[f].cache);
}

RC_GTEST_PROP(SimDiskProperty, CrashStateIsLegal, ()) {
  const auto ops = *rc::gen::container<std::vector<Op>>(GenOp(/*with_sync=*/true));
  const bool garbage = *rc::gen::arbitrary<bool>();
  const uint32_t unit_bytes = *rc::gen::element<uint32_t>(512, 4096);
  // The device profile: powersafe overwrite (today's gentle model) or not,
  // with a physical sector of the logical size or 4 KiB (512e).
  const bool powersafe = *rc::gen::arbitrary<bool>();
  const uint32_t physical_bytes = unit_bytes == 512 ? *rc::gen::element<uint32_t>(512, 4096) : 4096;
  FaultPlan plan;
  plan.crash.torn_sector_garbage_ppm = garbage ? 300'000 : 0;
  plan.crash.size_garbage_ppm = garbage ? 300'000 : 0;
  World world(*rc::gen::arbitrary<uint64_t>(), plan,
              DiskOptions{.atomic_unit_bytes = unit_bytes, .physical_sector_bytes = physical_bytes,
                          .powersafe_overwrite = powersafe});
  std::vector<std::unique_ptr<io::File>> files;
  std::vector<FileModel> models;
  OpenFiles(world, files, models);
  RunOps(world, files, models, ops);
  world.Crash();
  const DiskImage image = world.disk.DurableImage(world.node);
  for (int f = 0; f < kFiles; ++f) {
    RC_ASSERT(image.files.count(FileName(f)) == 1u);  // names were dir-synced
    CheckLegalCrashState(models[f], image.files.at(FileName(f)), garbage,
                         powersafe ? 0 : physical_bytes);
  }
}

// The flip side: without powersafe overwrite the model really does trash
// synced bytes that only share a physical sector with a torn write (the
// property above would pass a model that never did).
RC_GTEST_PROP(SimDiskProperty, WithoutPowersafeOverwriteSyncedNeighboursCanBeTrashed, ()) {
  const uint32_t physical_bytes = *rc::gen::element<uint32_t>(512, 4096);
  const auto synced_bytes = static_cast<uint64_t>(*rc::gen::inRange(1, 500));
  const auto torn_bytes = static_cast<uint64_t>(*rc::gen::inRange(1, 500));
  FaultPlan plan;
  plan.crash = CrashRates{.write_persist_ppm = 0, .write_torn_ppm = 1'000'000,
                          .sector_damage_ppm = 1'000'000};
  World world(*rc::gen::arbitrary<uint64_t>(), plan,
              DiskOptions{.atomic_unit_bytes = 512, .physical_sector_bytes = physical_bytes,
                          .powersafe_overwrite = false});
  auto opened = world.fs().Open("f", io::OpenMode::kCreateExclusive);
  RC_ASSERT(opened.ok());
  RC_ASSERT(world.fs().SyncDir("").ok());
  const std::string synced = Pattern(1, 0, synced_bytes);
  RC_ASSERT((*opened)->Append(Bytes(synced)).ok());
  RC_ASSERT((*opened)->Sync().ok());
  RC_ASSERT((*opened)->Append(Bytes(Pattern(2, synced_bytes, torn_bytes))).ok());
  world.Crash();
  const std::string after = world.disk.DurableImage(world.node).files.at("f");
  RC_ASSERT(after.size() >= synced_bytes);
  RC_ASSERT(after.substr(0, synced_bytes) != synced);  // garbage (of PRNG words) replaced them
}

RC_GTEST_PROP(SimDiskProperty, SameSeedSameCrashState, (uint64_t seed)) {
  const auto ops = *rc::gen::container<std::vector<Op>>(GenOp(/*with_sync=*/true));
  FaultPlan plan;
  plan.crash.torn_sector_garbage_ppm = 100'000;
  plan.rates.misdirect_write_ppm = 50'000;
  DiskImage images[2];
  uint64_t hashes[2];
  for (int run = 0; run < 2; ++run) {
    World world(seed, plan);
    std::vector<std::unique_ptr<io::File>> files;
    std::vector<FileModel> models;
    OpenFiles(world, files, models);
    RunOps(world, files, models, ops);
    world.Crash();
    images[run] = world.disk.DurableImage(world.node);
    hashes[run] = world.scheduler.trace().hash();
  }
  RC_ASSERT(images[0] == images[1]);
  RC_ASSERT(hashes[0] == hashes[1]);
}

// Files created (and data-synced) without a directory sync: after a crash each
// one is either gone or whole; with a directory sync, always there.
RC_GTEST_PROP(SimDiskProperty, CreateOrRenameWithoutDirSyncMayVanish, (uint64_t seed)) {
  const int count = *rc::gen::inRange(1, 6);
  const bool dir_sync = *rc::gen::arbitrary<bool>();
  const bool rename = *rc::gen::arbitrary<bool>();
  World world(seed, FaultPlan{});
  for (int i = 0; i < count; ++i) {
    const std::string name = "tmp" + std::to_string(i);
    auto file = world.fs().Open(name, io::OpenMode::kCreateExclusive);
    RC_ASSERT(file.ok());
    RC_ASSERT((*file)->Append(Bytes("content" + std::to_string(i))).ok());
    RC_ASSERT((*file)->Sync().ok());
    if (rename) RC_ASSERT(world.fs().Rename(name, "final" + std::to_string(i)).ok());
  }
  if (dir_sync) RC_ASSERT(world.fs().SyncDir("").ok());
  world.Crash();
  const DiskImage image = world.disk.DurableImage(world.node);
  for (int i = 0; i < count; ++i) {
    const std::string tmp = "tmp" + std::to_string(i);
    const std::string final_name = "final" + std::to_string(i);
    const std::string content = "content" + std::to_string(i);
    const int present = static_cast<int>(image.files.count(tmp) + image.files.count(final_name));
    RC_ASSERT(present <= 1);  // never both names
    if (dir_sync) {
      RC_ASSERT(image.files.count(rename ? final_name : tmp) == 1u);
    }
    for (const std::string& name : {tmp, final_name}) {
      auto it = image.files.find(name);
      if (it != image.files.end()) RC_ASSERT(it->second == content);  // data was synced
    }
  }
}

// With every pending op persisted at the crash, the durable file is exactly
// the successful syncs' data plus the pending tail; the writes a failed sync
// covered are absent even though later syncs succeeded (in the mode where a
// failed sync writes none of its data: failed_sync_writes_partway off).
RC_GTEST_PROP(SimDiskProperty, FailedSyncDataNeverBecomesDurable, (uint64_t seed)) {
  const auto ops = *rc::gen::container<std::vector<Op>>(GenOp(/*with_sync=*/true));
  const auto failing_sync = static_cast<uint64_t>(*rc::gen::inRange(1, 6));
  const bool btrfs = *rc::gen::arbitrary<bool>();
  FaultPlan plan;
  plan.crash = CrashRates{.write_persist_ppm = 1'000'000, .write_torn_ppm = 0,
                          .size_without_data_ppm = 0, .truncate_persist_ppm = 1'000'000,
                          .namespace_persist_ppm = 1'000'000};
  plan.rules.push_back({.node = 1, .op = DiskOp::kSync, .nth = failing_sync,
                        .action = FaultAction::kEio});
  World world(seed, plan,
              DiskOptions{.fsync_profile = btrfs ? FsyncFailureProfile::kBtrfs
                                                 : FsyncFailureProfile::kExt4,
                          .failed_sync_writes_partway = false});
  auto opened = world.fs().Open("f", io::OpenMode::kCreateExclusive);
  RC_ASSERT(opened.ok());
  io::File& file = **opened;
  RC_ASSERT(world.fs().SyncDir("").ok());
  std::string cache;
  std::string durable;
  std::string durable_plus_pending;  // durable with the pending ops replayed
  uint64_t op_id = 0;
  bool failed_once = false;
  for (const Op& op : ops) {
    ++op_id;
    if (op.kind == Op::kWrite || op.kind == Op::kAppend) {
      const uint64_t offset = op.kind == Op::kAppend ? cache.size() : op.offset;
      const std::string data = Pattern(op_id, offset, op.length_bytes);
      RC_ASSERT(file.WriteAt(offset, Bytes(data)).ok());
      ApplyToString(cache, offset, data);
      ApplyToString(durable_plus_pending, offset, data);
    } else if (op.kind == Op::kTruncate) {
      RC_ASSERT(file.Truncate(op.offset).ok());
      cache.resize(op.offset, '\0');
      durable_plus_pending.resize(op.offset, '\0');
    } else if (op.kind == Op::kSync) {
      const absl::Status status = file.Sync();
      if (status.ok()) {
        durable = durable_plus_pending;
      } else {
        RC_ASSERT(io::IsIoError(status));
        RC_ASSERT(!failed_once);
        failed_once = true;
        durable_plus_pending = durable;  // the pending data is lost for good
        if (btrfs) cache = durable;
      }
    }
    RC_ASSERT(file.Size().value() == cache.size());
  }
  RC_ASSERT(world.disk.CacheImage(world.node).files.at("f") == cache);
  world.Crash();
  RC_ASSERT(world.disk.DurableImage(world.node).files.at("f") == durable_plus_pending);
}

// Random creates, renames and removes among three names, with directory
// syncs in between; every file's data is synced at creation. After a crash:
// each surviving file holds exactly the content of one created file, no
// file has two names, and a name that no op since the last SyncDir touched
// is exactly as that SyncDir left it.
RC_GTEST_PROP(SimDiskProperty, NamespaceCrashStateIsLegal, (uint64_t seed)) {
  const std::vector<std::string> names = {"a", "b", "c"};
  const auto steps = *rc::gen::container<std::vector<std::tuple<int, int, int>>>(
      rc::gen::tuple(rc::gen::inRange(0, 4), rc::gen::inRange(0, 3), rc::gen::inRange(0, 3)));
  World world(seed, FaultPlan{});
  std::map<std::string, int> cache;    // name → file number
  std::map<std::string, int> durable;  // as of the last SyncDir
  std::set<std::string> touched;       // names mentioned since the last SyncDir
  int created = 0;
  for (const auto& [kind, x, y] : steps) {
    const std::string& from = names[x];
    const std::string& to = names[y];
    if (kind == 0 && cache.count(from) == 0) {
      auto file = world.fs().Open(from, io::OpenMode::kCreateExclusive);
      RC_ASSERT(file.ok());
      RC_ASSERT((*file)->Append(Bytes("file" + std::to_string(created))).ok());
      RC_ASSERT((*file)->Sync().ok());
      cache[from] = created++;
      touched.insert(from);
    } else if (kind == 1 && cache.count(from) > 0) {
      RC_ASSERT(world.fs().Rename(from, to).ok());
      const int moved = cache[from];
      cache.erase(from);
      cache[to] = moved;
      touched.insert(from);
      touched.insert(to);
    } else if (kind == 2 && cache.count(from) > 0) {
      RC_ASSERT(world.fs().Remove(from).ok());
      cache.erase(from);
      touched.insert(from);
    } else if (kind == 3) {
      RC_ASSERT(world.fs().SyncDir("").ok());
      durable = cache;
      touched.clear();
    }
  }
  world.Crash();
  const DiskImage image = world.disk.DurableImage(world.node);
  std::set<std::string> contents;
  for (const auto& [name, content] : image.files) {
    RC_ASSERT(content.rfind("file", 0) == 0);
    RC_ASSERT(std::stoi(content.substr(4)) < created);
    RC_ASSERT(contents.insert(content).second);  // one name per file
  }
  for (const std::string& name : names) {
    if (touched.count(name) > 0) continue;
    auto expected = durable.find(name);
    auto actual = image.files.find(name);
    RC_ASSERT((expected == durable.end()) == (actual == image.files.end()));
    if (expected != durable.end()) {
      RC_ASSERT(actual->second == "file" + std::to_string(expected->second));
    }
  }
  if (touched.empty()) RC_ASSERT(image.files.size() == durable.size());
}

TEST(SimDiskPropertyTest, UnsyncedCreatesVanishUnderSomeSeeds) {
  int vanished = 0;
  int survived = 0;
  for (uint64_t seed = 0; seed < 64; ++seed) {
    World world(seed, FaultPlan{});
    auto file = world.fs().Open("f", io::OpenMode::kCreateExclusive);
    ASSERT_TRUE(file.ok());
    world.Crash();
    ++(world.disk.DurableImage(world.node).files.count("f") == 0 ? vanished : survived);
  }
  EXPECT_GT(vanished, 0);
  EXPECT_GT(survived, 0);
}

}  // namespace
}  // namespace faultline::sim::disk
