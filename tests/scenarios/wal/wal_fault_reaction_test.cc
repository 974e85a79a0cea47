// tests/scenarios/wal/wal_fault_reaction_test.cc — the WAL scenarios check
// the reaction to every storage fault their swarm injects: a WAL that
// reacts wrongly is caught by the default sweep, the correct one is not.
//
// Each wrong reaction is emulated from outside the WAL (core/wal stays
// correct) by a file-system decorator between the WAL and the disk:
//
//  SwallowNoSpace  a write that fails with ENOSPC reports OK: the WAL
//                  carries on as if the bytes were in the file (a WAL
//                  that ignores a short write).
//  ReadEioAsEnd    a read that fails with EIO reports end of file: a WAL
//                  that takes an unreadable sector for a torn tail and
//                  cuts the log there.
//
// And the coverage the sweep reports: every kind a seed enables is named in
// ScenarioResult::faults_enabled, and the new kinds (ENOSPC, read EIO,
// misdirected writes, a stuck disk, latency spikes, durable damage, the
// crash at the first write after a recovery) fire within a few hundred seeds.
#include <cstdint>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include <gtest/gtest.h>

#include "core/io/errors.h"
#include "scenarios/io/forwarding_file_system.h"
#include "scenarios/wal/wal_scenarios.h"
#include "spdlog/spdlog.h"

namespace faultline::scenarios {
namespace {

constexpr uint64_t kMaxSeeds = 400;

const bool kQuietLogs = [] {
  spdlog::set_level(spdlog::level::off);
  return true;
}();

class SwallowNoSpaceFile final : public ForwardingFile {
 public:
  using ForwardingFile::ForwardingFile;
  absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override {
    absl::Status written = ForwardingFile::WriteAt(offset, data);
    return io::IsNoSpace(written) ? absl::OkStatus() : written;
  }
  absl::Status Append(absl::Span<const char> data) override {
    absl::Status written = ForwardingFile::Append(data);
    return io::IsNoSpace(written) ? absl::OkStatus() : written;
  }
};

class ReadEioAsEndFile final : public ForwardingFile {
 public:
  using ForwardingFile::ForwardingFile;
  absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) override {
    absl::StatusOr<size_t> got = ForwardingFile::ReadAt(offset, out);
    if (!got.ok() && io::IsIoError(got.status())) return size_t{0};
    return got;
  }
};

template <typename File>
class WrappingFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view, std::unique_ptr<io::File> file) override {
    return std::make_unique<File>(std::move(file));
  }
};

template <typename File>
WalScenarioHooks Wrap() {
  WalScenarioHooks hooks;
  hooks.wrap_file_system = [](io::FileSystem& inner,
                              const wal::WalOptions&) -> std::unique_ptr<io::FileSystem> {
    return std::make_unique<WrappingFileSystem<File>>(inner);
  };
  return hooks;
}

// The first seed of `kind` (below kMaxSeeds) on which the buggy WAL breaks
// a durability rule while the correct one passes; 0 if none. Seeds start at 1.
uint64_t FirstDetection(WalScenarioKind kind, const WalScenarioHooks& buggy) {
  for (uint64_t seed = 1; seed <= kMaxSeeds; ++seed) {
    const ScenarioResult bad = RunWalScenario(kind, ScenarioOptions{.seed = seed}, buggy);
    if (bad.passed()) continue;
    if (bad.violation.rfind("durability violated", 0) != 0) continue;
    if (RunWalScenario(kind, ScenarioOptions{.seed = seed}).passed()) return seed;
  }
  return 0;
}

TEST(WalFaultReactionTest, WalThatSwallowsNoSpaceIsCaught) {
  const uint64_t seed = FirstDetection(WalScenarioKind::kCrash, Wrap<SwallowNoSpaceFile>());
  EXPECT_NE(seed, 0u) << "a WAL that takes ENOSPC for success passed " << kMaxSeeds << " seeds";
  std::cout << "caught at seed " << seed << "\n";
}

TEST(WalFaultReactionTest, WalThatReadsEioAsEndOfLogIsCaught) {
  const uint64_t seed = FirstDetection(WalScenarioKind::kCrash, Wrap<ReadEioAsEndFile>());
  EXPECT_NE(seed, 0u) << "a WAL that takes a read EIO for a torn tail passed " << kMaxSeeds
                      << " seeds";
  std::cout << "caught at seed " << seed << "\n";
}

TEST(WalFaultReactionTest, EveryEnabledKindFiresWithinAFewHundredSeeds) {
  for (WalScenarioKind kind : {WalScenarioKind::kCrash, WalScenarioKind::kFsyncFailure,
                               WalScenarioKind::kRotationRetention}) {
    std::set<std::string> enabled;
    std::set<std::string> fired;
    for (uint64_t seed = 1; seed <= kMaxSeeds; ++seed) {
      const ScenarioResult result = RunWalScenario(kind, ScenarioOptions{.seed = seed});
      ASSERT_TRUE(result.passed()) << "seed " << seed << ": " << result.violation;
      enabled.insert(result.faults_enabled.begin(), result.faults_enabled.end());
      for (const auto& [name, count] : result.faults_injected) {
        if (count > 0 && result.faults_enabled.count(name) > 0) fired.insert(name);
      }
    }
    for (std::string_view must : {"no_space", "read_eio", "misdirected_write", "stuck",
                                  "latency_spike", "damage_lost_segment",
                                  "damage_truncated_segment", "damage_latent_sector",
                                  "damage_flip_newest_segment",
                                  "crash_first_write_after_recovery"}) {
      EXPECT_EQ(enabled.count(std::string(must)), 1u) << must << " never enabled";
    }
    for (const std::string& name : enabled) {
      EXPECT_EQ(fired.count(name), 1u)
          << name << " enabled in scenario " << static_cast<int>(kind) << " but never fired";
    }
  }
}

}  // namespace
}  // namespace faultline::scenarios
