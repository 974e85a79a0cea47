// scenarios/io/crash_points.h — crash a node at a chosen I/O operation.
//
// A crash at a random virtual time mostly lands while the node idles. To
// crash it in the middle of a group commit (batch written, sync not yet
// done), of a rotation (new segment created, directory not yet synced) or of
// a recovery, the nemesis arms a CrashArm — "the 2nd file sync from now,
// before it takes effect" — and the node's file system, wrapped in a
// CrashPointFileSystem, fires it from inside the operation: the callback
// crashes the node (Scheduler::Crash throws runtime::FiberKilled in the
// calling fiber, which belongs to the node), so the operation never returns
// to the code under test.
//
// Scenarios do not use this file directly: kit/crash_at_op.h is the one
// place that arms it, so that the mechanism can change behind that seam.
//
// Contract: the CrashArm outlives every CrashPointFileSystem and file that
// refers to it; `fire` must not return normally when it crashes the calling
// fiber's node (it throws FiberKilled out of the operation).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <utility>

#include "core/base/check.h"
#include "scenarios/io/forwarding_file_system.h"

namespace faultline::scenarios {

// The operation classes a crash can be armed on.
enum class CrashPoint : uint8_t {
  kNone = 0,      // disarmed
  kFileSync = 1,  // File::Sync: a group commit's (or a rotation's header) sync
  kDirSync = 2,   // FileSystem::SyncDir: rotation, recovery, release
  kWrite = 3,     // File::WriteAt / Append
  kAnyOp = 4,     // every operation counts (used while a recovery runs)
};

struct CrashArm {
  CrashPoint point = CrashPoint::kNone;
  uint32_t countdown = 0;  // fires at the countdown-th matching operation (>= 1)
  bool after = false;      // fire after the operation took effect, not before
  std::string_view label;  // names the crash in the trace and in fault coverage
  // Count only operations of a recovery (true) or only operations outside
  // one (false), so that an arm meant for a group commit is not spent on
  // the recovery that precedes it, and the other way round.
  bool during_recovery = false;

  void Disarm() { point = CrashPoint::kNone; }
};

class CrashPointFileSystem final : public ForwardingFileSystem {
 public:
  // `recovering` says whether the node is recovering right now (read at
  // every operation; it must outlive this object). `fire` crashes the node;
  // it is called with the arm already disarmed.
  // (The arm may have been re-armed meanwhile, for an operation that parked
  // before firing after itself; `fire` reads the label it needs at once.)
  CrashPointFileSystem(io::FileSystem& inner, CrashArm& arm, const bool& recovering,
                       std::function<void()> fire)
      : ForwardingFileSystem(inner), arm_(arm), recovering_(recovering), fire_(std::move(fire)) {}

  absl::StatusOr<std::unique_ptr<io::File>> Open(std::string_view path,
                                                 io::OpenMode mode) override {
    return Op(CrashPoint::kAnyOp, [&] { return ForwardingFileSystem::Open(path, mode); });
  }
  absl::Status Rename(std::string_view from, std::string_view to) override {
    return Op(CrashPoint::kAnyOp, [&] { return ForwardingFileSystem::Rename(from, to); });
  }
  absl::Status Remove(std::string_view path) override {
    return Op(CrashPoint::kAnyOp, [&] { return ForwardingFileSystem::Remove(path); });
  }
  absl::Status CreateDir(std::string_view path) override {
    return Op(CrashPoint::kAnyOp, [&] { return ForwardingFileSystem::CreateDir(path); });
  }
  absl::StatusOr<std::vector<std::string>> List(std::string_view dir) override {
    return Op(CrashPoint::kAnyOp, [&] { return ForwardingFileSystem::List(dir); });
  }
  absl::Status SyncDir(std::string_view dir) override {
    return Op(CrashPoint::kDirSync, [&] { return ForwardingFileSystem::SyncDir(dir); });
  }
  absl::StatusOr<bool> Exists(std::string_view path) override {
    return Op(CrashPoint::kAnyOp, [&] { return ForwardingFileSystem::Exists(path); });
  }

  // Runs `op`, firing the arm before or after it when this operation is the
  // one it counts down to. Public for the file decorator below.
  template <typename Body>
  auto Op(CrashPoint kind, Body&& op) -> decltype(op()) {
    const bool fires = CountDown(kind);
    const bool after = arm_.after;
    if (fires && !after) fire_();
    auto result = op();
    if (fires && after) fire_();
    return result;
  }

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view path,
                                     std::unique_ptr<io::File> file) override;

 private:
  // Counts one operation of `kind`; true when it is the one the arm waits
  // for. Disarms at once: the operation may park (latency) while other
  // fibers of the node run operations of their own.
  bool CountDown(CrashPoint kind) {
    if (arm_.point == CrashPoint::kNone) return false;
    if (arm_.point != kind && arm_.point != CrashPoint::kAnyOp) return false;
    if (arm_.during_recovery != recovering_) return false;
    FAULTLINE_CHECK(arm_.countdown >= 1);
    if (--arm_.countdown > 0) return false;
    arm_.Disarm();
    return true;
  }

  CrashArm& arm_;
  const bool& recovering_;
  std::function<void()> fire_;
};

// Files opened through a CrashPointFileSystem.
class CrashPointFile final : public ForwardingFile {
 public:
  CrashPointFile(std::unique_ptr<io::File> inner, CrashPointFileSystem& fs)
      : ForwardingFile(std::move(inner)), fs_(fs) {}

  absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) override {
    return fs_.Op(CrashPoint::kAnyOp, [&] { return ForwardingFile::ReadAt(offset, out); });
  }
  absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override {
    return fs_.Op(CrashPoint::kWrite, [&] { return ForwardingFile::WriteAt(offset, data); });
  }
  absl::Status Append(absl::Span<const char> data) override {
    return fs_.Op(CrashPoint::kWrite, [&] { return ForwardingFile::Append(data); });
  }
  absl::Status Sync() override {
    return fs_.Op(CrashPoint::kFileSync, [&] { return ForwardingFile::Sync(); });
  }
  absl::Status Truncate(uint64_t size_bytes) override {
    return fs_.Op(CrashPoint::kAnyOp, [&] { return ForwardingFile::Truncate(size_bytes); });
  }
  absl::StatusOr<uint64_t> Size() override {
    return fs_.Op(CrashPoint::kAnyOp, [&] { return ForwardingFile::Size(); });
  }

 private:
  CrashPointFileSystem& fs_;
};

inline std::unique_ptr<io::File> CrashPointFileSystem::WrapFile(std::string_view /*path*/,
                                                                std::unique_ptr<io::File> file) {
  return std::make_unique<CrashPointFile>(std::move(file), *this);
}

}  // namespace faultline::scenarios
