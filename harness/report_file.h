// harness/report_file.h — a report file (--json, --junit) of a sweep.
//
// Opened before the sweep, so that a path that cannot be written is refused
// (exit 2) before any seed runs; written and closed after it, with every
// error checked up to and including close(2), so that a report that did not
// reach the file is never taken for one that did (exit 4). The descriptor is
// close-on-exec: nothing the sweep starts inherits it.
//
// A report at a regular path appears whole or not at all: Open removes an
// old file at the path (it is not this run's report) and proves the
// directory writable; WriteAndClose creates a temporary file beside the
// path ("<path>.partial-XXXXXX"), writes, syncs and renames it into place.
// A sweep killed mid-run (a CI timeout) leaves no file at the path, never an
// empty or truncated one that reads as a report of fewer seeds, and no
// temporary file either unless killed while writing the report. A path
// that exists and is not a regular file (a FIFO, /dev/stdout) is written in
// place.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace faultline::harness {

class ReportFile {
 public:
  // Prepares `path` (see the file comment). An error naming the path and the
  // reason; refused: a FIFO no process reads (it would block forever), and
  // the regular file stdout or stderr goes to (it would be clobbered).
  static absl::StatusOr<ReportFile> Open(const std::string& path);

  ReportFile(ReportFile&& other) noexcept;
  ReportFile& operator=(ReportFile&&) = delete;
  ReportFile(const ReportFile&) = delete;
  // Closes the file if WriteAndClose was not called, and removes the
  // temporary file: no report was written.
  ~ReportFile();

  // Whether `other` is the same file (the same name in the same directory
  // once links are resolved, or the same inode): two paths, one file, would
  // clobber each other.
  bool SameFileAs(const ReportFile& other) const;

  // Writes `contents`, closes the file and moves it into place. An error
  // naming the path and the reason if any step failed (then nothing is at
  // the path). Call at most once.
  absl::Status WriteAndClose(std::string_view contents);

  const std::string& path() const { return path_; }

 private:
  // Which file a report is: a name in a directory (for a path written
  // through a temporary file) and the file that was there when opened.
  struct Identity {
    dev_t dir_device = 0;
    ino_t dir_inode = 0;
    std::string name;        // empty: written in place
    dev_t file_device = 0;   // the file at the path when opened (0: none)
    ino_t file_inode = 0;
  };
  ReportFile(std::string path, std::string target, bool in_place, int fd, Identity identity)
      : path_(std::move(path)), target_(std::move(target)), in_place_(in_place), fd_(fd),
        identity_(std::move(identity)) {}

  std::string path_;       // as given
  std::string target_;     // the path with symbolic links resolved
  bool in_place_ = false;  // written through fd_ as opened, not a temporary file
  std::string temp_path_;  // the temporary file being written (WriteAndClose only)
  int fd_ = -1;
  Identity identity_;
};

// Whether two report paths name the same file before either exists (the
// same absolute path once "." and ".." are resolved).
bool SameReportPath(const std::string& a, const std::string& b);

}  // namespace faultline::harness
