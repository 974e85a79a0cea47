// core/wal/internal/wal_core.h — the state shared by the Wal handle, its
// flusher fiber and its readers, and the helpers its parts share. Not part
// of the API: wal.h is. The parts follow wal.h's sections: recovery.cc
// (Open's recovery), writer.cc (group commit, rotation, release), reader.cc
// (WalReader), wal.cc (the facade); wal_core.cc holds what several of them
// use.
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "core/io/file_system.h"
#include "core/runtime/event.h"
#include "core/runtime/executor.h"
#include "core/runtime/future.h"
#include "core/runtime/mutex.h"
#include "core/runtime/spawn.h"
#include "core/wal/format.h"
#include "core/wal/wal.h"

namespace faultline::wal::internal {

// Prefixes `context` to a status from the file system, keeping its code (so
// io::IsIoError and friends still work on the result).
absl::Status Annotate(const absl::Status& status, std::string_view context);

absl::Status DataLossAt(std::string_view path, uint64_t offset_bytes, std::string_view what);

// Reads all `size_bytes` of `file` into `out` (less if it shrank meanwhile).
absl::Status ReadWhole(io::File& file, uint64_t size_bytes, std::string* out);

// The granularity at which ReadReadable tells unreadable ranges apart: the
// smallest logical sector.
inline constexpr uint64_t kUnreadablePieceBytes = 512;

// Like ReadWhole, but a range that fails with an I/O error on every one of a
// few attempts (a latent sector error) reads as zeros, in pieces of
// kUnreadablePieceBytes; `*unreadable` is set to where each such piece
// starts, ascending (else cleared). Other errors are returned.
absl::Status ReadReadable(io::File& file, uint64_t size_bytes, std::string* out,
                          std::vector<uint64_t>* unreadable);

// Reads exactly out.size() bytes at `offset`; the count read otherwise.
absl::StatusOr<size_t> ReadFull(io::File& file, uint64_t offset, absl::Span<char> out);

struct Segment {
  uint64_t first_sequence = 0;
  std::string path;
  uint32_t salt = 0;  // from its header (format::SegmentHeader::salt)
};

inline absl::Status CancelledByAbandonment() {
  return absl::CancelledError("the wal was destroyed without Close");
}

// One queued or in-flight record. Append copies and checksums its payload
// into WalCore::queued_frames_ behind room for the frame header, which the
// flusher fills in when it takes the record into a batch (only then is the
// watermark known; FORMAT.md). So the payload is copied once and the
// flusher's work per record is small. The promise sits on the last record
// of an append call.
struct Pending {
  uint64_t sequence = 0;
  uint32_t payload_bytes = 0;
  uint32_t payload_crc = 0;  // format::PayloadCrc of the payload
  int64_t enqueued_ns = 0;  // set only when a flush interval is configured
  std::optional<runtime::Promise<uint64_t>> promise;
};

// The Wal's state, shared by the Wal handle, the flusher fiber and readers,
// so that none of them outlives what it touches (the Wal may be destroyed
// while the flusher is parked in a Sync).
class WalCore {
 public:
  WalCore(io::FileSystem& fs, runtime::Executor& executor, std::string dir,
          const WalOptions& options)
      : fs_(fs),
        executor_(executor),
        dir_(std::move(dir)),
        options_(options),
        work_(executor),
        space_(executor),
        durable_advanced_(executor),
        release_mutex_(executor) {}

  absl::Status Recover();
  void StartFlusher(std::shared_ptr<WalCore> self);

  absl::StatusOr<AppendResult> Enqueue(absl::Span<const std::string_view> payloads);
  absl::Status Flush();
  absl::Status Close();
  void Abandon();
  absl::Status Release(uint64_t below_sequence);

  // The salt of a segment created now at `first_sequence`: the options' seed
  // mixed with the directory and the clock (FORMAT.md, salt), so that two
  // logs left at the default seed — a replica storing its leader's frames —
  // still salt their segments differently, and so does a segment created
  // again under the name of an earlier one.
  uint32_t NewSegmentSalt(uint64_t first_sequence);

  // Where the first frame of a segment this writer creates starts: the
  // header, padded to options_.sector_bytes (FORMAT.md, sector alignment).
  uint64_t HeaderRegionBytes() const {
    return format::kSegmentHeaderBytes +
           format::PaddingBytes(format::kSegmentHeaderBytes, options_.sector_bytes);
  }
  // `end_offset` moved up to the end of the padding a write ending there gets.
  uint64_t Padded(uint64_t end_offset) const {
    return end_offset + format::PaddingBytes(end_offset, options_.sector_bytes);
  }

  absl::Status UsableStatus() const {
    if (!failure_.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("wal ", dir_, " stopped after a failure (reopen to recover): ",
                       failure_.ToString()));
    }
    if (closing_) return absl::FailedPreconditionError(absl::StrCat("wal ", dir_, " is closed"));
    return absl::OkStatus();
  }

  io::FileSystem& fs_;
  runtime::Executor& executor_;
  const std::string dir_;
  const WalOptions options_;

  // Segments in sequence order; back() is the one being written.
  std::deque<Segment> segments_;
  std::unique_ptr<io::File> active_file_;
  uint64_t active_bytes_ = 0;          // write offset in the active segment
  uint64_t active_durable_bytes_ = 0;  // its size after the last good Sync
  uint64_t active_records_ = 0;

  uint64_t next_sequence_ = 1;     // the next to hand out
  uint64_t durable_sequence_ = 0;  // every record <= this is durable

  std::deque<Pending> queue_;
  // The frames of queue_'s records in queue order, headers not yet filled in.
  std::string queued_frames_;
  uint64_t queued_bytes_ = 0;   // payload bytes of queue_ (the queue bound)
  uint64_t flush_through_ = 0;  // Flush() asked for everything <= this now
  uint32_t space_waiters_ = 0;  // appenders parked for queue space

  runtime::Event work_;   // the flusher waits on it for records / requests
  runtime::Event space_;  // appenders wait on it for queue space
  // Set after every batch and when the flusher exits; Flush() waits on it.
  runtime::Event durable_advanced_;
  runtime::JoinHandle flusher_;
  bool closing_ = false;
  bool closed_ = false;
  bool abandoned_ = false;
  absl::Status failure_;
  // Cancelled once abandonment cancelled a record (Close reports it).
  absl::Status cancelled_;
  absl::Status release_failure_;
  // The directory's lock: taken by Recover, held until the flusher has
  // exited and no Release is in flight (one Wal per directory; see wal.h).
  std::shared_ptr<io::FileLock> lock_;
  runtime::Mutex release_mutex_;

  // The batch being written: its records (kept across batches for their
  // capacity) and its frames.
  std::vector<Pending> batch_;
  std::string batch_buffer_;
  uint64_t batch_padding_bytes_ = 0;  // the padding frame at the end of batch_buffer_
  WalStats stats_;
  RecoveryInfo recovery_;

 private:
  // --- recovery (recovery.cc), in the order Recover runs the steps ---
  // What the scan of the segments found so far.
  struct Scan {
    std::unique_ptr<io::File> last_file;    // the newest kept segment
    uint64_t last_bytes = 0;                // its size after recovery
    uint64_t expected = 0;                  // the sequence the next record must carry
    std::optional<uint64_t> removed_first;  // first sequence of the first removed empty segment
    // Leftovers to remove once every segment passed its checks: a refused
    // Open changes nothing.
    std::vector<std::string> leftovers;
    // Torn tails to cut, likewise after the whole scan (RepairTornTails).
    struct Cut {
      std::string path;
      uint64_t offset_bytes = 0;
      uint64_t torn_bytes = 0;
    };
    std::vector<Cut> cuts;
    std::string bytes;                      // the segment being scanned
    // Where each piece of it that fails every read starts (its bytes read
    // as zeros), ascending.
    std::vector<uint64_t> unreadable;
    // Whether an unreadable piece overlaps [begin_offset, end_offset).
    bool UnreadableIn(uint64_t begin_offset, uint64_t end_offset) const {
      auto it = std::lower_bound(unreadable.begin(), unreadable.end(),
                                 begin_offset < kUnreadablePieceBytes
                                     ? 0
                                     : begin_offset - kUnreadablePieceBytes + 1);
      return it != unreadable.end() && *it < end_offset;
    }
  };
  // Creates and locks the directory, makes its creation durable and lists
  // the first sequences of its segments, in order.
  absl::StatusOr<std::vector<uint64_t>> ListSegments();
  // Reads segment firsts[index] and checks it (FORMAT.md, recovery): keeps
  // it, removes it as a leftover, cuts its torn tail, or fails.
  absl::Status ScanSegment(const std::vector<uint64_t>& firsts, size_t index, Scan* scan);
  // Checks the frames of the scanned segment (scan->bytes) in order; on the
  // first bad one, CutTornTail.
  absl::Status ScanFrames(const std::vector<uint64_t>& firsts, size_t index,
                          const std::string& path, uint32_t salt, Scan* scan);
  // The frame at `offset` of the scanned segment failed to verify: DataLoss
  // if anything proves a record there had been durable, else the tail is
  // to be cut off (RepairTornTails, once every segment passed).
  absl::Status CutTornTail(const std::vector<uint64_t>& firsts, size_t index,
                           const std::string& path, uint32_t salt, std::string_view problem,
                           uint64_t offset, Scan* scan);
  // Whether a record frame (not padding) verifies anywhere past the header
  // of `bytes`, a segment no larger than its header region.
  bool HoldsRecordFrame(std::string_view bytes, uint32_t salt) const;
  // Whether segment file `bytes` holds no record: nothing past its header,
  // or nothing past this writer's header region and no record frame in it
  // that verifies under a good header (FORMAT.md, Recovery).
  bool HoldsNoRecord(std::string_view bytes) const;
  // Whether `bytes` is exactly a header region as this writer makes it: the
  // header, then (with sector alignment) one valid padding frame.
  bool IntactHeaderRegion(std::string_view bytes, uint32_t salt) const;
  // Creates the first segment of an empty log, or makes the recovered state
  // durable; then sets the writer's state.
  absl::Status FinishRecovery(Scan* scan);
  // Removes the leftovers the scan found, each followed by a directory sync.
  absl::Status RemoveLeftovers(const Scan& scan);
  // Cuts the torn tails the scan found, each synced.
  absl::Status RepairTornTails(const Scan& scan);
  // Whether a segment at or after firsts[from_index] has anything past its
  // header (then the segment before it is not the newest).
  absl::StatusOr<bool> LaterSegmentHoldsRecords(const std::vector<uint64_t>& firsts,
                                                size_t from_index);
  bool LaterFrameProvesLoss(std::string_view bytes, uint64_t from_offset, uint64_t expected,
                            uint32_t salt, uint64_t* found_offset,
                            format::FrameHeader* found) const;

  // --- segment creation (wal_core.cc), for recovery and rotation ---
  absl::Status InitializeSegment(uint64_t first_sequence, uint32_t salt,
                                 std::unique_ptr<io::File>* file);
  // Writes and syncs a new segment's header and syncs the directory; on
  // failure removes the file (best effort).
  absl::Status WriteSegmentHeader(io::File& file, const std::string& path,
                                  uint64_t first_sequence, uint32_t salt);
  // Cancelled once the Wal was abandoned: the flusher checks it after every
  // I/O call, so that it stops before writing anything more.
  absl::Status CheckAbandoned() const {
    return abandoned_ ? CancelledByAbandonment() : absl::OkStatus();
  }

  // --- flusher (writer.cc) ---
  void FlusherMain();
  bool WaitForBatch();
  // Moves the next batch from queue_ / queued_frames_ into batch_ /
  // batch_buffer_.
  // Sets *salt to the salt of the segment the batch goes into (a new one
  // when *rotate_first).
  void TakeBatch(bool* rotate_first, uint32_t* salt);
  absl::Status WriteBatch(bool rotate_first, uint32_t salt);
  absl::Status Rotate(uint64_t first_sequence, uint32_t salt);
  void FailStop(const absl::Status& status);
  void FailQueued(const absl::Status& status);
};

}  // namespace faultline::wal::internal
