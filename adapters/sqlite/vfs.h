// adapters/sqlite/vfs.h — an sqlite3_vfs over io::FileSystem, so that an
// unmodified SQLite library runs on the simulated disk (or on any other
// implementation of the storage seam).
//
// WHAT SQLITE GETS
//  * files: open/read/write/truncate/sync/size/close through io::File; a
//    file opened with SQLITE_OPEN_DELETEONCLOSE is removed at close; a
//    temporary file without a name gets one from a per-VFS counter.
//  * directory sync where SQLite asks for it, as its unix VFS does: the
//    first xSync of a rollback journal, super-journal or WAL file created
//    by this open also syncs the parent directory (the new name becomes
//    durable); xDelete with dirSync syncs the parent after the unlink.
//    The database file's own creation is never dir-synced by SQLite: the
//    application must SyncDir after creating a database.
//  * locks for one process: a per-path table of the five SQLite lock
//    levels shared by the VFS's connections, and an in-memory
//    shared-memory wal-index (xShm*) per path that lives while a connection
//    maps it — so a crash (the process dies) loses it, as SQLite expects.
//  * sector size and device characteristics as the options say: the
//    scenario derives them from the simulated disk's options
//    (scenarios/sqlite/sqlite_device.h): the atomic unit and
//    SQLITE_IOCAP_POWERSAFE_OVERWRITE when a torn write never changes bytes
//    outside its range, else the physical sector and no such claim.
//  * randomness, current time and sleep from the options' sources (the
//    simulation's PRNG stream and virtual clock), never from the OS: SQLite's
//    own PRNG is reseeded from this VFS when it is constructed (it becomes
//    the default VFS while it lives), so every run draws the same bytes.
//
// ERRORS (error_map.h): EIO → SQLITE_IOERR_<op>, ENOSPC → SQLITE_FULL, a
// dead node → SQLITE_IOERR_<op>, a missing file at open → SQLITE_CANTOPEN.
//
// FIBERS. Every SQLite call that may reach this VFS must run in a fiber of
// `executor`: a simulated I/O parks that fiber. When the fiber is killed
// (its node crashed) inside a VFS method, the FiberKilled exception must not
// cross SQLite's C frames: the method stores it, returns an I/O error, and
// SQLite unwinds on its own; RethrowIfKilled() — which Connection (connection.h)
// calls after every SQLite call — then rethrows it in C++.
//
// LIFETIME. One VFS at a time per process (it is SQLite's default while it
// lives); it must outlive every connection opened on it. Not thread-safe.
#pragma once

#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "core/io/file_system.h"
#include "core/runtime/executor.h"

struct sqlite3_vfs;

namespace faultline::adapters::sqlite {

struct VfsOptions {
  io::FileSystem* file_system = nullptr;   // where files live (settable later)
  runtime::Executor* executor = nullptr;   // clock and sleep; required
  // Fills the span with random bytes (xRandomness); required.
  std::function<void(absl::Span<char>)> randomness;
  uint32_t sector_size_bytes = 512;        // xSectorSize
  int device_characteristics = 0;          // xDeviceCharacteristics (SQLITE_IOCAP_*)
  // xCurrentTime: the executor's NowNs() counted from this Unix time.
  int64_t epoch_unix_ms = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  std::string name = "faultline";
};

// The lock levels of one path, shared by the connections of this VFS.
struct PathLocks {
  int shared = 0;               // holders of SHARED or more
  const void* reserved = nullptr;   // the holder of RESERVED/PENDING/EXCLUSIVE
  int reserved_level = 0;
};

// One path's in-memory wal-index.
struct SharedMemory {
  std::vector<std::unique_ptr<char[]>> regions;
  int region_bytes = 0;
  int mappings = 0;                       // open connections that mapped it
  int shared_locks[8] = {};               // SQLITE_SHM_NLOCK slots
  const void* exclusive_locks[8] = {};
};

class Vfs {
 public:
  explicit Vfs(VfsOptions options);
  ~Vfs();
  Vfs(const Vfs&) = delete;
  Vfs& operator=(const Vfs&) = delete;

  const std::string& name() const { return options_.name; }
  const VfsOptions& options() const { return options_; }
  // Files opened from now on live on `fs` (e.g. a new incarnation's).
  void SetFileSystem(io::FileSystem* fs) { options_.file_system = fs; }

  // If a VFS method caught an exception (FiberKilled) since the last call,
  // rethrows it (once).
  void RethrowIfKilled();
  // Forgets a stored exception (a connection closed while its fiber unwinds
  // already has one in flight).
  void DiscardPending() { pending_ = nullptr; }

  // --- for the methods (vfs.cc, vfs_file.cc) --------------------------------
  io::FileSystem& fs() { return *options_.file_system; }
  // Runs `body` (returns an SQLite code); an exception it throws is stored
  // and `on_exception` returned instead.
  template <typename Body>
  int Guard(int on_exception, Body&& body) {
    try {
      return body();
    } catch (...) {  // never across SQLite's C frames: kept for RethrowIfKilled
      if (!pending_) pending_ = std::current_exception();
      return on_exception;
    }
  }
  std::string NextTempName() { return "etilqs_" + std::to_string(++temp_files_); }
  PathLocks& LocksOf(const std::string& path) { return locks_[path]; }
  void ForgetLocksIfIdle(const std::string& path);
  std::map<std::string, SharedMemory>& shm() { return shm_; }

 private:
  VfsOptions options_;
  std::unique_ptr<sqlite3_vfs> vfs_;
  std::exception_ptr pending_;
  uint64_t temp_files_ = 0;
  std::map<std::string, PathLocks> locks_;
  std::map<std::string, SharedMemory> shm_;
};

}  // namespace faultline::adapters::sqlite
