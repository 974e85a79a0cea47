// tests/sim/disk/crash_enumerator_test.cc — exhaustive crash-state
// enumeration checked against hand counts and against an independent
// brute force (every sector subset and size bit of every pending write,
// every subset of pending creates), on cases small enough to count.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/io/errors.h"
#include "sim/disk/crash_enumerator.h"
#include "sim/disk/sim_file_system.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::sim::disk {
namespace {

absl::Span<const char> Bytes(const std::string& text) { return {text.data(), text.size()}; }

struct World {
  explicit World(DiskOptions options = {})
      : scheduler(SchedulerOptions{.seed = 1}), node(scheduler.AddNode("n1")),
        disk(scheduler, options) {}
  SimFileSystem& fs() { return disk.ForNode(node); }
  // A file whose name and `content` are durable; the handle stays open.
  std::unique_ptr<io::File> Durable(const std::string& path, const std::string& content) {
    auto file = fs().Open(path, io::OpenMode::kCreateExclusive).value();
    EXPECT_TRUE(file->Append(Bytes(content)).ok());
    EXPECT_TRUE(file->Sync().ok());
    EXPECT_TRUE(fs().SyncDir("").ok());
    return file;
  }
  Scheduler scheduler;
  NodeId node;
  SimDisk disk;
};

std::set<std::string> ContentsOf(const CrashStates& states, const std::string& path) {
  std::set<std::string> contents;
  for (const DiskImage& image : states.states) contents.insert(image.files.at(path));
  return contents;
}

TEST(CrashEnumeratorTest, OverwriteOfTwoSectorsHasFourStates) {
  World world;
  auto file = world.Durable("f", std::string(1024, 'A'));
  ASSERT_TRUE(file->WriteAt(0, Bytes(std::string(1024, 'B'))).ok());
  const CrashStates states = EnumerateCrashStates(world.disk, world.node, {});
  EXPECT_TRUE(states.complete);
  const std::string a(512, 'A');
  const std::string b(512, 'B');
  EXPECT_EQ(ContentsOf(states, "f"), (std::set<std::string>{a + a, a + b, b + a, b + b}));
  EXPECT_EQ(states.states.size(), 4u);
  // Option 0 first: the first state drops everything pending.
  EXPECT_EQ(states.states.front().files.at("f"), a + a);
}

// The garbage representative: everything persisted, every written sector
// garbage; not one of the enumerated states.
TEST(CrashEnumeratorTest, GarbageStateTearsEveryWrittenSectorIntoGarbage) {
  World world;
  auto file = world.Durable("f", std::string(1024, 'A'));
  ASSERT_TRUE(file->WriteAt(0, Bytes(std::string(1024, 'B'))).ok());
  const DiskImage garbage = GarbageCrashState(world.disk, world.node);
  EXPECT_EQ(garbage.files.at("f"), std::string(1024, '\xEE'));
  const CrashStates states = EnumerateCrashStates(world.disk, world.node, {});
  EXPECT_EQ(std::count(states.states.begin(), states.states.end(), garbage), 0);
}

TEST(CrashEnumeratorTest, AppendMayPersistItsSizeWithoutData) {
  World world;
  auto file = world.Durable("f", std::string(512, 'A'));
  ASSERT_TRUE(file->Append(Bytes(std::string(1024, 'B'))).ok());
  const std::string a(512, 'A');
  const std::string b(512, 'B');
  const std::string z(512, '\0');
  const CrashStates all = EnumerateCrashStates(world.disk, world.node, {});
  EXPECT_EQ(ContentsOf(all, "f"),
            (std::set<std::string>{a, a + z + z, a + b + z, a + z + b, a + b + b}));
  const CrashStates no_size_only = EnumerateCrashStates(
      world.disk, world.node, EnumerationOptions{.include_size_without_data = false});
  EXPECT_EQ(ContentsOf(no_size_only, "f"), (std::set<std::string>{a, a + b + b}));
}

TEST(CrashEnumeratorTest, CreatesWithoutDirSyncMultiply) {
  World world;
  std::vector<std::unique_ptr<io::File>> files;
  for (int i = 0; i < 3; ++i) {
    auto file = world.fs().Open("c" + std::to_string(i), io::OpenMode::kCreateExclusive).value();
    EXPECT_TRUE(file->Append(Bytes("x")).ok());
    EXPECT_TRUE(file->Sync().ok());
    files.push_back(std::move(file));
  }
  const CrashStates states = EnumerateCrashStates(world.disk, world.node, {});
  EXPECT_TRUE(states.complete);
  EXPECT_EQ(states.states.size(), 8u);  // each create kept or dropped
}

// A rename is ordered after the create that reuses its old name: no state
// loses the renamed file.
TEST(CrashEnumeratorTest, NamespaceOpsKeepTheirOrderOnOneName) {
  World world;
  {
    auto file = world.fs().Open("a", io::OpenMode::kCreate).value();
    EXPECT_TRUE(file->Append(Bytes("one")).ok());
    EXPECT_TRUE(file->Sync().ok());
  }
  EXPECT_TRUE(world.fs().SyncDir("").ok());
  EXPECT_TRUE(world.fs().Rename("a", "b").ok());
  auto reused = world.fs().Open("a", io::OpenMode::kCreate).value();
  const CrashStates states = EnumerateCrashStates(world.disk, world.node, {});
  EXPECT_TRUE(states.complete);
  EXPECT_EQ(states.states.size(), 3u);  // {a}, {b}, {b, new a}
  for (const DiskImage& state : states.states) {
    const bool at_a = state.files.count("a") > 0 && state.files.at("a") == "one";
    const bool at_b = state.files.count("b") > 0 && state.files.at("b") == "one";
    EXPECT_TRUE(at_a || at_b);
  }
}

TEST(CrashEnumeratorTest, BoundedAndDeterministic) {
  World world;
  auto file = world.Durable("f", std::string(2048, 'A'));
  ASSERT_TRUE(file->WriteAt(0, Bytes(std::string(2048, 'B'))).ok());
  const CrashStates first = EnumerateCrashStates(world.disk, world.node, {.max_states = 5});
  const CrashStates second = EnumerateCrashStates(world.disk, world.node, {.max_states = 5});
  EXPECT_FALSE(first.complete);
  EXPECT_EQ(first.states.size(), 5u);
  EXPECT_EQ(first.states, second.states);
  const CrashStates all = EnumerateCrashStates(world.disk, world.node, {});
  EXPECT_TRUE(all.complete);
  EXPECT_EQ(all.states.size(), 16u);  // 2^4 sectors
  EXPECT_TRUE(std::equal(first.states.begin(), first.states.end(), all.states.begin()));
}

TEST(CrashEnumeratorTest, EveryEnumeratedStateCanBeInstalled) {
  World probe;
  auto file = probe.Durable("f", std::string(1024, 'A'));
  ASSERT_TRUE(file->WriteAt(512, Bytes(std::string(1024, 'B'))).ok());
  const CrashStates states = EnumerateCrashStates(probe.disk, probe.node, {});
  ASSERT_GT(states.states.size(), 1u);
  for (const DiskImage& state : states.states) {
    World world;
    auto again = world.Durable("f", std::string(1024, 'A'));
    ASSERT_TRUE(again->WriteAt(512, Bytes(std::string(1024, 'B'))).ok());
    world.scheduler.Crash(world.node, "test");
    world.disk.CrashInto(world.node, state);
    EXPECT_EQ(world.disk.DurableImage(world.node), state);
    EXPECT_TRUE(io::IsNodeDead(again->Sync()));
  }
}

// --- against a brute force ---------------------------------------------------

struct SmallWrite {
  uint64_t offset;
  std::string bytes;
};

// Every outcome of `writes` on `durable`, computed independently of the
// simulator: each write picks any subset of its 512-byte sectors and
// whether its size update persisted.
std::set<std::string> BruteForce(const std::string& durable, const std::vector<SmallWrite>& writes) {
  std::vector<uint64_t> first_sector;
  std::vector<uint64_t> sector_count;
  uint64_t total_bits = 0;
  for (const SmallWrite& write : writes) {
    first_sector.push_back(write.offset / 512);
    sector_count.push_back((write.offset + write.bytes.size() - 1) / 512 - write.offset / 512 + 1);
    total_bits += sector_count.back() + 1;
  }
  EXPECT_LE(total_bits, 20u);
  std::set<std::string> outcomes;
  for (uint64_t mask = 0; mask < (uint64_t{1} << total_bits); ++mask) {
    std::string phys = durable;
    uint64_t size = durable.size();
    uint64_t bit = 0;
    for (size_t w = 0; w < writes.size(); ++w) {
      const SmallWrite& write = writes[w];
      const uint64_t end = write.offset + write.bytes.size();
      if (phys.size() < end) phys.resize(end, '\0');
      for (uint64_t s = 0; s < sector_count[w]; ++s, ++bit) {
        if ((mask >> bit & 1) == 0) continue;
        const uint64_t begin = std::max((first_sector[w] + s) * 512, write.offset);
        const uint64_t stop = std::min((first_sector[w] + s + 1) * 512, end);
        phys.replace(begin, stop - begin, write.bytes.substr(begin - write.offset, stop - begin));
      }
      if ((mask >> bit & 1) != 0) size = std::max(size, end);
      ++bit;
    }
    outcomes.insert(phys.substr(0, size));
  }
  return outcomes;
}

RC_GTEST_PROP(CrashEnumeratorProperty, MatchesBruteForceOnOneFile, ()) {
  const auto durable_size = static_cast<size_t>(*rc::gen::inRange(0, 1100));
  const int write_count = *rc::gen::inRange(1, 4);
  World world;
  auto file = world.Durable("f", std::string(durable_size, 'o'));
  std::vector<SmallWrite> writes;
  uint64_t bits = 0;
  for (int w = 0; w < write_count; ++w) {
    const auto offset = static_cast<uint64_t>(*rc::gen::inRange(0, 1600));
    const auto length = static_cast<size_t>(*rc::gen::inRange(1, 1100));
    const uint64_t sectors = (offset + length - 1) / 512 - offset / 512 + 1;
    if (bits + sectors + 1 > 14) break;  // keep the brute force small
    bits += sectors + 1;
    const std::string bytes(length, static_cast<char>('a' + w));
    RC_ASSERT(file->WriteAt(offset, Bytes(bytes)).ok());
    writes.push_back({offset, bytes});
  }
  const CrashStates states = EnumerateCrashStates(world.disk, world.node, {.max_states = 1 << 16});
  RC_ASSERT(states.complete);
  const std::set<std::string> expected = BruteForce(std::string(durable_size, 'o'), writes);
  RC_ASSERT(states.states.size() == expected.size());
  RC_ASSERT(ContentsOf(states, "f") == expected);
}

RC_GTEST_PROP(CrashEnumeratorProperty, CreatesTimesDataStates, ()) {
  const int creates = *rc::gen::inRange(0, 4);
  World world;
  auto file = world.Durable("f", std::string(512, 'o'));
  RC_ASSERT(file->WriteAt(0, Bytes(std::string(1024, 'n'))).ok());  // 2 sectors: 4 outcomes
  // plus the size-only outcome for sector 1 (zeros), and torn/sized combos:
  const std::set<std::string> data_states =
      BruteForce(std::string(512, 'o'), {{0, std::string(1024, 'n')}});
  for (int i = 0; i < creates; ++i) {
    RC_ASSERT(world.fs().Open("new" + std::to_string(i), io::OpenMode::kCreateExclusive).ok());
  }
  const CrashStates states = EnumerateCrashStates(world.disk, world.node, {});
  RC_ASSERT(states.complete);
  RC_ASSERT(states.states.size() == data_states.size() << creates);
}

}  // namespace
}  // namespace faultline::sim::disk
