// core/posix/internal/posix_file.h — io::File on an open file descriptor.
//
// Every syscall that can touch the disk runs through EventLoop::RunBlocking,
// except cached reads (see PosixFileSystemOptions::inline_cached_read_max_bytes).
//
// Lifetime: the descriptor is shared by the handle and the operations in
// flight on it. Close() (or destroying the handle) while another fiber's
// operation still waits for the I/O pool only marks the handle closed; the
// last operation to finish closes the descriptor. So a pool job never runs
// on a descriptor number that close(2) gave back and open(2) handed to
// another file — which would read, write or fdatasync that other file.
//
// Sync failures are sticky: once an fdatasync of this handle failed, every
// later Sync and WriteAtAndSync fails with io::IsIoError too (see File::Sync).
// The calls that sync run one at a time per handle, so that one issued while
// another was in flight is "later" too (the kernel would tell only one of
// two concurrent fdatasyncs about a writeback error).
//
// A write or truncate past RLIMIT_FSIZE fails with EFBIG; the SIGXFSZ the
// kernel sends with it is blocked and discarded instead of killing the
// process — if the limit was already set when the file was opened (checked
// then, so that unlimited processes pay nothing per write).
//
// Not API: made by PosixFileSystem::Open.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/io/file_system.h"
#include "core/posix/event_loop.h"

namespace faultline::posix::internal {

// Takes ownership of `fd`. `path` names the file in error messages.
std::unique_ptr<io::File> MakePosixFile(EventLoop& loop, std::string path, int fd,
                                        size_t inline_read_max_bytes);

}  // namespace faultline::posix::internal
