// adapters/sqlite/vfs_file.cc — the io methods of the VFS's files (see vfs.h
// for what SQLite gets and vfs_file.h for the interface).
#include "adapters/sqlite/vfs_file.h"

#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "absl/types/span.h"
#include "adapters/sqlite/error_map.h"
#include "adapters/sqlite/vfs.h"
#include "core/io/file_system.h"

namespace faultline::adapters::sqlite {
namespace {

constexpr int kShmSlots = SQLITE_SHM_NLOCK;

// Lives in the memory SQLite allocates for a sqlite3_file (placement new;
// destroyed at xClose). `base` must come first: SQLite sees only it.
struct VfsFile {
  sqlite3_file base;
  Vfs* vfs = nullptr;
  std::unique_ptr<io::File> file;
  std::string path;
  int lock_level = SQLITE_LOCK_NONE;
  bool dir_sync_pending = false;  // a new journal/WAL: its first sync syncs the directory
  bool delete_on_close = false;
  SharedMemory* shm = nullptr;    // mapped wal-index, if any
  unsigned shm_shared = 0;        // slots this file holds shared (bit per slot)
  unsigned shm_exclusive = 0;     // ... and exclusive
};

VfsFile& Of(sqlite3_file* file) { return *reinterpret_cast<VfsFile*>(file); }

int Close(sqlite3_file* f);
int Read(sqlite3_file* f, void* buffer, int amount, sqlite3_int64 offset) {
  VfsFile& file = Of(f);
  return file.vfs->Guard(SQLITE_IOERR_READ, [&] {
    char* out = static_cast<char*>(buffer);
    auto read = file.file->ReadAt(static_cast<uint64_t>(offset),
                                  absl::MakeSpan(out, static_cast<size_t>(amount)));
    if (!read.ok()) return SqliteCodeFor(read.status(), SQLITE_IOERR_READ);
    if (*read == static_cast<size_t>(amount)) return SQLITE_OK;
    // SQLite requires the unread tail zeroed on a short read.
    std::memset(out + *read, 0, static_cast<size_t>(amount) - *read);
    return SQLITE_IOERR_SHORT_READ;
  });
}

int Write(sqlite3_file* f, const void* data, int amount, sqlite3_int64 offset) {
  VfsFile& file = Of(f);
  return file.vfs->Guard(SQLITE_IOERR_WRITE, [&] {
    const absl::Status written = file.file->WriteAt(
        static_cast<uint64_t>(offset),
        absl::MakeConstSpan(static_cast<const char*>(data), static_cast<size_t>(amount)));
    return SqliteCodeFor(written, SQLITE_IOERR_WRITE);
  });
}

int Truncate(sqlite3_file* f, sqlite3_int64 size_bytes) {
  VfsFile& file = Of(f);
  return file.vfs->Guard(SQLITE_IOERR_TRUNCATE, [&] {
    return SqliteCodeFor(file.file->Truncate(static_cast<uint64_t>(size_bytes)),
                         SQLITE_IOERR_TRUNCATE);
  });
}

// fdatasync, then (once per new journal or WAL) the directory, as the unix
// VFS does: a new file's name is durable only after its directory's sync.
int Sync(sqlite3_file* f, int /*flags: DATAONLY or not, fdatasync covers the size*/) {
  VfsFile& file = Of(f);
  return file.vfs->Guard(SQLITE_IOERR_FSYNC, [&] {
    const int code = SqliteCodeFor(file.file->Sync(), SQLITE_IOERR_FSYNC);
    if (code != SQLITE_OK || !file.dir_sync_pending) return code;
    const int dir_code =
        SqliteCodeFor(file.vfs->fs().SyncDir(io::ParentDir(file.path)), SQLITE_IOERR_DIR_FSYNC);
    if (dir_code == SQLITE_OK) file.dir_sync_pending = false;
    return dir_code;
  });
}

int FileSize(sqlite3_file* f, sqlite3_int64* size_bytes) {
  VfsFile& file = Of(f);
  return file.vfs->Guard(SQLITE_IOERR_FSTAT, [&] {
    auto size = file.file->Size();
    if (!size.ok()) return SqliteCodeFor(size.status(), SQLITE_IOERR_FSTAT);
    *size_bytes = static_cast<sqlite3_int64>(*size);
    return SQLITE_OK;
  });
}

// --- locks: one process, several connections (vfs.h's PathLocks) ---------------

int Lock(sqlite3_file* f, int level) {
  VfsFile& file = Of(f);
  if (file.lock_level >= level) return SQLITE_OK;
  PathLocks& locks = file.vfs->LocksOf(file.path);
  const bool other_writer = locks.reserved != nullptr && locks.reserved != &file;
  if (level == SQLITE_LOCK_SHARED) {
    if (other_writer && locks.reserved_level >= SQLITE_LOCK_PENDING) return SQLITE_BUSY;
    ++locks.shared;
    file.lock_level = SQLITE_LOCK_SHARED;
    return SQLITE_OK;
  }
  if (other_writer) return SQLITE_BUSY;
  locks.reserved = &file;
  if (level == SQLITE_LOCK_EXCLUSIVE && locks.shared > 1) {
    // Readers remain: hold PENDING so that no new reader comes, and retry.
    locks.reserved_level = file.lock_level = SQLITE_LOCK_PENDING;
    return SQLITE_BUSY;
  }
  locks.reserved_level = file.lock_level = level;
  return SQLITE_OK;
}

int Unlock(sqlite3_file* f, int level) {
  VfsFile& file = Of(f);
  if (file.lock_level <= level) return SQLITE_OK;
  PathLocks& locks = file.vfs->LocksOf(file.path);
  if (file.lock_level > SQLITE_LOCK_SHARED && locks.reserved == &file) {
    locks.reserved = nullptr;
    locks.reserved_level = SQLITE_LOCK_NONE;
  }
  if (level == SQLITE_LOCK_NONE) --locks.shared;
  file.lock_level = level;
  file.vfs->ForgetLocksIfIdle(file.path);
  return SQLITE_OK;
}

int CheckReservedLock(sqlite3_file* f, int* reserved) {
  VfsFile& file = Of(f);
  *reserved = file.vfs->LocksOf(file.path).reserved != nullptr ? 1 : 0;
  file.vfs->ForgetLocksIfIdle(file.path);
  return SQLITE_OK;
}

int FileControl(sqlite3_file*, int, void*) { return SQLITE_NOTFOUND; }
int SectorSize(sqlite3_file* f) {
  return static_cast<int>(Of(f).vfs->options().sector_size_bytes);
}
int DeviceCharacteristics(sqlite3_file* f) { return Of(f).vfs->options().device_characteristics; }

// --- the in-memory wal-index ---------------------------------------------------

int ShmMap(sqlite3_file* f, int region, int region_bytes, int extend, void volatile** out) {
  VfsFile& file = Of(f);
  return file.vfs->Guard(SQLITE_IOERR_SHMMAP, [&] {
    if (file.shm == nullptr) {
      file.shm = &file.vfs->shm()[file.path];
      ++file.shm->mappings;
    }
    SharedMemory& shm = *file.shm;
    if (shm.region_bytes == 0) shm.region_bytes = region_bytes;
    if (shm.region_bytes != region_bytes) return SQLITE_IOERR_SHMSIZE;
    *out = nullptr;
    if (static_cast<size_t>(region) >= shm.regions.size()) {
      if (!extend) return SQLITE_OK;
      while (shm.regions.size() <= static_cast<size_t>(region)) {
        shm.regions.push_back(std::make_unique<char[]>(static_cast<size_t>(region_bytes)));
      }
    }
    *out = shm.regions[static_cast<size_t>(region)].get();
    return SQLITE_OK;
  });
}

void ReleaseShmLocks(VfsFile& file, unsigned mask) {
  for (int slot = 0; slot < kShmSlots; ++slot) {
    const unsigned bit = 1u << slot;
    if ((mask & bit) == 0) continue;
    if (file.shm_exclusive & bit) file.shm->exclusive_locks[slot] = nullptr;
    if (file.shm_shared & bit) --file.shm->shared_locks[slot];
  }
  file.shm_exclusive &= ~mask;
  file.shm_shared &= ~mask;
}

int ShmLock(sqlite3_file* f, int first, int count, int flags) {
  VfsFile& file = Of(f);
  if (file.shm == nullptr || first < 0 || count < 1 || first + count > kShmSlots) {
    return SQLITE_IOERR_SHMLOCK;
  }
  SharedMemory& shm = *file.shm;
  const unsigned mask = ((1u << count) - 1) << first;
  if (flags & SQLITE_SHM_UNLOCK) {
    ReleaseShmLocks(file, mask);
    return SQLITE_OK;
  }
  const bool exclusive = (flags & SQLITE_SHM_EXCLUSIVE) != 0;
  for (int slot = first; slot < first + count; ++slot) {
    const unsigned bit = 1u << slot;
    const bool other_exclusive = shm.exclusive_locks[slot] != nullptr && shm.exclusive_locks[slot] != &file;
    const int other_shared = shm.shared_locks[slot] - ((file.shm_shared & bit) ? 1 : 0);
    if (other_exclusive || (exclusive && other_shared > 0)) return SQLITE_BUSY;
  }
  for (int slot = first; slot < first + count; ++slot) {
    const unsigned bit = 1u << slot;
    if (exclusive) {
      shm.exclusive_locks[slot] = &file;
      file.shm_exclusive |= bit;
    } else if ((file.shm_shared & bit) == 0) {
      ++shm.shared_locks[slot];
      file.shm_shared |= bit;
    }
  }
  return SQLITE_OK;
}

void ShmBarrier(sqlite3_file*) {}  // one thread: nothing to order

// The wal-index lives while a connection maps it: the last unmap (or a
// crash, which closes every connection) frees it, whatever deleteFlag says
// — memory does not outlive the process.
int ShmUnmap(sqlite3_file* f, int /*delete_flag*/) {
  VfsFile& file = Of(f);
  if (file.shm == nullptr) return SQLITE_OK;
  ReleaseShmLocks(file, ~0u);
  if (--file.shm->mappings == 0) file.vfs->shm().erase(file.path);
  file.shm = nullptr;
  return SQLITE_OK;
}

const sqlite3_io_methods kMethods = {
    .iVersion = 2,
    .xClose = Close,
    .xRead = Read,
    .xWrite = Write,
    .xTruncate = Truncate,
    .xSync = Sync,
    .xFileSize = FileSize,
    .xLock = Lock,
    .xUnlock = Unlock,
    .xCheckReservedLock = CheckReservedLock,
    .xFileControl = FileControl,
    .xSectorSize = SectorSize,
    .xDeviceCharacteristics = DeviceCharacteristics,
    .xShmMap = ShmMap,
    .xShmLock = ShmLock,
    .xShmBarrier = ShmBarrier,
    .xShmUnmap = ShmUnmap,
    .xFetch = nullptr,
    .xUnfetch = nullptr,
};

int Close(sqlite3_file* f) {
  VfsFile& file = Of(f);
  Vfs& vfs = *file.vfs;
  ShmUnmap(f, 0);
  Unlock(f, SQLITE_LOCK_NONE);
  const int code = vfs.Guard(SQLITE_IOERR_CLOSE, [&] {
    int result = SqliteCodeFor(file.file->Close(), SQLITE_IOERR_CLOSE);
    if (file.delete_on_close) {
      const absl::Status removed = vfs.fs().Remove(file.path);
      if (result == SQLITE_OK && !removed.ok() && !absl::IsNotFound(removed)) {
        result = SqliteCodeFor(removed, SQLITE_IOERR_DELETE);
      }
    }
    return result;
  });
  file.~VfsFile();
  return code;
}

}  // namespace

size_t VfsFileBytes() { return sizeof(VfsFile); }

int OpenVfsFile(Vfs& vfs, const char* name, sqlite3_file* out, int flags, int* out_flags) {
  out->pMethods = nullptr;  // until opened: SQLite then does not call xClose
  const std::string path = name != nullptr ? std::string(name) : vfs.NextTempName();
  const int type = flags & 0x0FFF00;  // SQLITE_OPEN_MAIN_DB ... SQLITE_OPEN_WAL
  const bool create = (flags & SQLITE_OPEN_CREATE) != 0;
  const io::OpenMode mode = !create                                 ? io::OpenMode::kReadWrite
                            : (flags & SQLITE_OPEN_EXCLUSIVE) != 0 ? io::OpenMode::kCreateExclusive
                                                                    : io::OpenMode::kCreate;
  std::unique_ptr<io::File> opened;
  const int code = vfs.Guard(SQLITE_CANTOPEN, [&] {
    auto file = vfs.fs().Open(path, mode);
    if (!file.ok()) return SqliteCodeFor(file.status(), SQLITE_CANTOPEN);
    opened = *std::move(file);
    return SQLITE_OK;
  });
  if (code != SQLITE_OK) return code;
  VfsFile* file = new (out) VfsFile;
  file->base.pMethods = &kMethods;
  file->vfs = &vfs;
  file->file = std::move(opened);
  file->path = path;
  file->dir_sync_pending = create && (type == SQLITE_OPEN_MAIN_JOURNAL ||
                                      type == SQLITE_OPEN_SUPER_JOURNAL || type == SQLITE_OPEN_WAL);
  file->delete_on_close = (flags & SQLITE_OPEN_DELETEONCLOSE) != 0;
  if (out_flags != nullptr) *out_flags = flags;
  return SQLITE_OK;
}

}  // namespace faultline::adapters::sqlite
