// harness/report_file.h — a report file (--json, --junit) of a sweep.
//
// Opened before the sweep, so that a path that cannot be written is refused
// (exit 2) before any seed runs; written and closed after it, with every
// error checked up to and including close(2), so that a report that did not
// reach the file is never taken for one that did (exit 4). The descriptor is
// close-on-exec: nothing the sweep starts inherits it.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace faultline::harness {

class ReportFile {
 public:
  // Creates or truncates `path`. An error naming the path and the reason;
  // refused: a FIFO no process reads (it would block forever), and the
  // regular file stdout or stderr goes to (it would be clobbered).
  static absl::StatusOr<ReportFile> Open(const std::string& path);

  ReportFile(ReportFile&& other) noexcept;
  ReportFile& operator=(ReportFile&&) = delete;
  ReportFile(const ReportFile&) = delete;
  ~ReportFile();  // closes the file if WriteAndClose was not called

  // Whether `other` is the same file (device and inode): two paths, one
  // file, would clobber each other.
  bool SameFileAs(const ReportFile& other) const;

  // Writes `contents` and closes the file. An error naming the path and the
  // reason if any write or the close failed. Call at most once.
  absl::Status WriteAndClose(std::string_view contents);

  const std::string& path() const { return path_; }

 private:
  ReportFile(std::string path, int fd, dev_t device, ino_t inode)
      : path_(std::move(path)), fd_(fd), device_(device), inode_(inode) {}

  std::string path_;
  int fd_ = -1;
  dev_t device_ = 0;
  ino_t inode_ = 0;
};

// Whether two report paths name the same file before either exists (the
// same absolute path once "." and ".." are resolved).
bool SameReportPath(const std::string& a, const std::string& b);

}  // namespace faultline::harness
