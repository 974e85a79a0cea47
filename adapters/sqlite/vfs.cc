// adapters/sqlite/vfs.cc — the VFS-level methods (open, delete, access,
// names, randomness, time, sleep) and registration; files are in
// vfs_file.cc. See vfs.h.
#include "adapters/sqlite/vfs.h"

#include <sqlite3.h>

#include <cstring>
#include <utility>

#include "adapters/sqlite/error_map.h"
#include "adapters/sqlite/vfs_file.h"
#include "core/base/check.h"

namespace faultline::adapters::sqlite {
namespace {

constexpr int kMaxPathBytes = 512;
// 1970-01-01T00:00:00Z as a Julian day number, in milliseconds.
constexpr int64_t kUnixEpochJulianMs = 210'866'760'000'000;
constexpr int64_t kDayMs = 86'400'000;
constexpr int64_t kNanosPerMicro = 1'000;
constexpr int64_t kNanosPerMilli = 1'000'000;

Vfs& Of(sqlite3_vfs* vfs) { return *static_cast<Vfs*>(vfs->pAppData); }

int Open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  return OpenVfsFile(Of(vfs), name, file, flags, out_flags);
}

int Delete(sqlite3_vfs* v, const char* name, int sync_dir) {
  Vfs& vfs = Of(v);
  return vfs.Guard(SQLITE_IOERR_DELETE, [&] {
    const absl::Status removed = vfs.fs().Remove(name);
    if (absl::IsNotFound(removed)) return SQLITE_IOERR_DELETE_NOENT;
    if (!removed.ok()) return SqliteCodeFor(removed, SQLITE_IOERR_DELETE);
    if (!sync_dir) return SQLITE_OK;
    return SqliteCodeFor(vfs.fs().SyncDir(io::ParentDir(name)), SQLITE_IOERR_DIR_FSYNC);
  });
}

int Access(sqlite3_vfs* v, const char* name, int /*flags*/, int* result) {
  Vfs& vfs = Of(v);
  return vfs.Guard(SQLITE_IOERR_ACCESS, [&] {
    auto exists = vfs.fs().Exists(name);
    if (!exists.ok()) return SqliteCodeFor(exists.status(), SQLITE_IOERR_ACCESS);
    *result = *exists ? 1 : 0;  // every file of the seam is readable and writable
    return SQLITE_OK;
  });
}

// Paths of the seam are already canonical (relative, no "." or ".."):
// the full name is the name, once checked.
int FullPathname(sqlite3_vfs*, const char* name, int out_bytes, char* out) {
  const size_t length = std::strlen(name);
  if (!io::ValidatePath(name).ok() || length + 1 > static_cast<size_t>(out_bytes)) {
    return SQLITE_CANTOPEN;
  }
  std::memcpy(out, name, length + 1);
  return SQLITE_OK;
}

void* DlOpen(sqlite3_vfs*, const char*) { return nullptr; }  // no extensions
void DlError(sqlite3_vfs*, int bytes, char* out) {
  if (bytes > 0) std::strncpy(out, "extensions are not loaded by this VFS", static_cast<size_t>(bytes) - 1);
  if (bytes > 0) out[bytes - 1] = '\0';
}
void (*DlSym(sqlite3_vfs*, void*, const char*))(void) { return nullptr; }
void DlClose(sqlite3_vfs*, void*) {}

int Randomness(sqlite3_vfs* v, int bytes, char* out) {
  Of(v).options().randomness(absl::MakeSpan(out, static_cast<size_t>(bytes)));
  return bytes;
}

int Sleep(sqlite3_vfs* v, int micros) {
  Vfs& vfs = Of(v);
  vfs.Guard(SQLITE_OK, [&] {
    vfs.options().executor->SleepFor(int64_t{micros} * kNanosPerMicro);
    return SQLITE_OK;
  });
  return micros;
}

int CurrentTimeInt64(sqlite3_vfs* v, sqlite3_int64* julian_ms) {
  const VfsOptions& options = Of(v).options();
  *julian_ms = kUnixEpochJulianMs + options.epoch_unix_ms + options.executor->NowNs() / kNanosPerMilli;
  return SQLITE_OK;
}

int CurrentTime(sqlite3_vfs* v, double* julian_days) {
  sqlite3_int64 julian_ms = 0;
  CurrentTimeInt64(v, &julian_ms);
  *julian_days = static_cast<double>(julian_ms) / static_cast<double>(kDayMs);
  return SQLITE_OK;
}

int GetLastError(sqlite3_vfs*, int, char*) { return 0; }

}  // namespace

Vfs::Vfs(VfsOptions options) : options_(std::move(options)), vfs_(new sqlite3_vfs{}) {
  FAULTLINE_CHECK(options_.executor != nullptr && options_.randomness);
  FAULTLINE_CHECK(sqlite3_vfs_find(options_.name.c_str()) == nullptr);  // one at a time
  sqlite3_vfs& v = *vfs_;
  v.iVersion = 2;  // no system-call overrides (version 3)
  v.szOsFile = static_cast<int>(VfsFileBytes());
  v.mxPathname = kMaxPathBytes;
  v.zName = options_.name.c_str();
  v.pAppData = this;
  v.xOpen = Open;
  v.xDelete = Delete;
  v.xAccess = Access;
  v.xFullPathname = FullPathname;
  v.xDlOpen = DlOpen;
  v.xDlError = DlError;
  v.xDlSym = DlSym;
  v.xDlClose = DlClose;
  v.xRandomness = Randomness;
  v.xSleep = Sleep;
  v.xCurrentTime = CurrentTime;
  v.xGetLastError = GetLastError;
  v.xCurrentTimeInt64 = CurrentTimeInt64;
  FAULTLINE_CHECK(sqlite3_vfs_register(vfs_.get(), /*makeDflt=*/1) == SQLITE_OK);
  // SQLite's PRNG (journal nonces, WAL salts, temporary names) is seeded
  // once per process from the default VFS; reseed it from this one.
  sqlite3_randomness(0, nullptr);
}

Vfs::~Vfs() {
  sqlite3_vfs_unregister(vfs_.get());
  sqlite3_randomness(0, nullptr);  // no state of this run leaks into the next
}

void Vfs::RethrowIfKilled() {
  if (!pending_) return;
  std::exception_ptr pending = std::exchange(pending_, nullptr);
  std::rethrow_exception(pending);
}

void Vfs::ForgetLocksIfIdle(const std::string& path) {
  auto it = locks_.find(path);
  if (it != locks_.end() && it->second.shared == 0 && it->second.reserved == nullptr) {
    locks_.erase(it);
  }
}

}  // namespace faultline::adapters::sqlite
