// adapters/sqlite/vfs_file.h — the sqlite3_file of the VFS (vfs.h): one open
// io::File and its lock and shared-memory state. Internal to the adapter.
#pragma once

#include <sqlite3.h>

#include <cstddef>

namespace faultline::adapters::sqlite {

class Vfs;

// The bytes SQLite must allocate per open file (sqlite3_vfs::szOsFile).
size_t VfsFileBytes();

// xOpen: opens `name` (nullptr: a temporary file named by the VFS) into
// `out`, SQLite's allocation of VfsFileBytes() bytes.
int OpenVfsFile(Vfs& vfs, const char* name, sqlite3_file* out, int flags, int* out_flags);

}  // namespace faultline::adapters::sqlite
