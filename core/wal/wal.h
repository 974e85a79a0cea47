// core/wal/wal.h — the segmented write-ahead log: append with group commit,
// durability futures, recovery, reading from a sequence number, release.
//
// A Wal owns one directory of segment files (format: FORMAT.md). Records are
// opaque non-empty byte strings numbered with consecutive sequence numbers.
//
// GROUP COMMIT. Append() copies the payload into a bounded in-memory queue,
// assigns the next sequence number and returns at once with a Future that
// completes when the record is durable. One flusher fiber takes queued
// records in sequence order, bounded by WalOptions::max_batch_records and
// max_batch_bytes, writes them and makes them durable with one
// File::WriteAtAndSync (one write, one sync), then completes every future
// of the batch with that call's result.
// Appenders never wait for each other's syncs; they wait only when the queue
// is full (back-pressure). Futures complete in sequence order.
//
// DURABILITY. A future that resolves OK means its record and every record
// before it are durable. With WalOptions::sector_bytes (the default) no later
// write touches a sector holding them, so a device that trashes a whole
// sector on a torn write (no powersafe overwrite) cannot take them along. A record in a new segment is acknowledged only after
// the segment's creation is durable (SyncDir).
//
// FAIL-STOP. If a write or Sync fails, the Wal stops for good: the failed
// batch and every queued record fail with the error, later calls fail with
// FailedPrecondition, and nothing is acknowledged afterwards — a failed Sync
// may have lost data that a later Sync would not bring back. The owner
// reopens the Wal, which recovers from what is on disk.
//
// ONE OWNER. A directory has at most one open Wal: Open takes the file
// system's lock on it (FileSystem::LockFile) and the flusher holds it until
// it exits, so a reopen cannot write beside a flusher still in flight.
//
// RECOVERY (Open). The tail of the newest segment may hold a torn write from
// a crash (sectors that no longer read included); it is truncated, and the
// truncation is made durable before Open returns. An unreadable sector in
// any other segment is DataLoss. Segment files that hold no record, left by a segment creation
// that a crash or a failed sync interrupted, are removed. Anything else that
// cannot be a torn tail — an invalid record followed by records written after
// it was durable, a bad segment header with records behind it, a missing
// segment — is DataLoss naming the segment and offset: acknowledged records
// are never dropped silently. Recovery is idempotent, so a crash during it
// converges on the next Open. FORMAT.md has the exact rules.
//
// THREADING. All calls come from fibers of the executor given to Open. The
// Wal starts one fiber of its own (the flusher) on that executor.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/io/file_system.h"
#include "core/runtime/executor.h"
#include "core/runtime/future.h"
#include "core/wal/format.h"

namespace faultline::wal {

struct WalOptions {
  // A segment is closed (and a new one started) once the next batch would
  // take it past this size. A single record larger than this still fits in a
  // segment of its own.
  uint64_t segment_size_bytes = 64ull << 20;
  // The largest payload Append accepts (<= format::kMaxPayloadBytes).
  uint32_t max_record_bytes = 1u << 20;
  // Bounds of the queue between appenders and the flusher; an appender parks
  // while its records do not fit. max_queued_bytes counts payload bytes and
  // must be >= max_record_bytes.
  uint32_t max_queued_records = 4096;
  uint64_t max_queued_bytes = 16ull << 20;
  // Bounds of one batch (one write + one sync). A record larger than
  // max_batch_bytes is written in a batch of its own.
  uint32_t max_batch_records = 1024;
  uint64_t max_batch_bytes = 1ull << 20;
  // How long the flusher lets the oldest queued record wait for company
  // before writing a batch that is not full. 0: write as soon as anything is
  // queued (records still batch up while the previous sync runs).
  int64_t flush_interval_ns = 0;
  // The sequence number of the first record of a brand-new log (>= 1).
  uint64_t initial_sequence = 1;
  // The most segments the log may hold (2 ..= format::kMaxSegments). A batch
  // that needs one more fails with ResourceExhausted and stops the Wal;
  // reopen, Release, then append again.
  uint32_t max_segments = format::kMaxSegments;
  // Seeds the per-segment salt mixed into every frame's checksum, so that
  // frames inside payloads (a replica storing its leader's frames, hostile
  // user bytes) never pass for this log's own in recovery (FORMAT.md). Pass
  // bytes a payload author cannot predict: random bytes in production, a
  // PRNG draw in simulation. A recovered segment keeps the salt in its header.
  // The Wal also mixes in the clock and the directory at each segment's
  // creation, so logs left at the default seed still differ, but only a
  // seed nobody can guess keeps a hostile payload from forging frames.
  uint64_t salt_seed = 0;
  // Sector alignment (FORMAT.md, "Sector alignment"): every write ends on a
  // multiple of this many bytes (a padding frame fills the gap), and so does
  // the header region of every segment, so that a write never rewrites a
  // sector holding synced records. A device without powersafe overwrite (a
  // 512e drive rewriting its 4 KiB physical sector, many SSDs) can trash a
  // whole sector a torn write touched, acknowledged bytes included. Set it
  // to the device's physical sector size or a multiple; 0 packs frames
  // (smaller files, but safe only on powersafe-overwrite devices). A power
  // of two in [512, 64 KiB], or 0.
  uint32_t sector_bytes = 4096;
};

// What Open found and repaired.
struct RecoveryInfo {
  uint32_t segments = 0;              // segments kept
  uint64_t records = 0;               // valid records found
  uint64_t truncated_bytes = 0;       // torn tail cut from the newest segment
  // Segment files holding no record that an interrupted or failed segment
  // creation left behind (see FORMAT.md), removed.
  uint32_t removed_empty_segments = 0;
  bool created_segment = false;  // no segment was left: a fresh one was made
};

struct WalStats {
  uint64_t batches = 0;         // one WriteAtAndSync (a write + a sync) each
  uint64_t records_written = 0;
  uint64_t bytes_written = 0;   // frame bytes of records
  uint64_t padding_bytes = 0;   // padding frames written (sector alignment)
  uint64_t file_syncs = 0;      // Sync calls on segment files
  uint64_t dir_syncs = 0;       // SyncDir calls
  uint64_t rotations = 0;
};

struct AppendResult {
  uint64_t first_sequence = 0;  // of the first record appended by the call
  uint64_t last_sequence = 0;   // of the last (== first for Append)
  // Resolves to last_sequence once every record of the call is durable, or
  // to the error that stopped the Wal (or Cancelled if the Wal was destroyed
  // or its node crashed before it was durable).
  runtime::Future<uint64_t> durable;
};

struct Record {
  uint64_t sequence = 0;
  std::string payload;
};

namespace internal {
class WalCore;
}  // namespace internal

class WalReader;

class Wal {
 public:
  // Recovers (or creates) the log in directory `dir` of `fs` and starts the
  // flusher on `executor`. Both must outlive the Wal and its readers.
  // Errors:
  //  InvalidArgument     bad options (including a segment size or count
  //                      recovery could not read back) or path
  //  FailedPrecondition  a file that is not a segment in `dir`; a segment of
  //                      another format version; `dir` is in use by another
  //                      Wal (open, or destroyed while its flusher is still
  //                      inside an I/O call; retry once it has returned)
  //  DataLoss            corruption that is not a torn tail (see above);
  //                      the message names the segment and offset
  //  I/O errors of fs    as returned (the directory is left as found or
  //                      partly repaired; reopening converges)
  static absl::StatusOr<std::unique_ptr<Wal>> Open(io::FileSystem& fs,
                                                   runtime::Executor& executor,
                                                   std::string_view dir,
                                                   const WalOptions& options);

  // Without Close(), pending records fail with Cancelled and the flusher
  // exits on its own; never parks. A batch whose write the flusher has not
  // finished yet is cancelled after the I/O call it is parked in returns
  // (a batch already written and synced is acknowledged). The directory
  // stays locked against another Open until the flusher has exited.
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Queues one record. Parks while the queue is full.
  //  InvalidArgument     empty payload, or larger than max_record_bytes
  //  FailedPrecondition  closed, closing, or stopped after a failure
  //  OutOfRange          sequence numbers exhausted
  absl::StatusOr<AppendResult> Append(std::string_view payload);

  // Queues several records with consecutive sequence numbers, atomically
  // with respect to other appenders (not with respect to crashes: a prefix
  // of the batch may survive one). Same errors as Append, plus
  // InvalidArgument when the call alone exceeds the queue bounds or is empty.
  absl::StatusOr<AppendResult> AppendBatch(absl::Span<const std::string_view> payloads);

  // Writes everything queued so far without waiting for the flush interval
  // and waits until it is durable. OK if nothing is pending.
  absl::Status Flush();

  // Stops accepting appends and releases, flushes what is queued, stops the
  // flusher, waits for a Release in flight and closes the active segment:
  // once it returns, the directory can be opened again. Returns the Wal's failure if it stopped after
  // one, Cancelled if the Wal was destroyed meanwhile and records were
  // cancelled, else OK. Idempotent. Other calls afterwards fail (readers too).
  absl::Status Close();

  // Every record with sequence <= durable_sequence() is durable. Starts at
  // the last recovered record (initial_sequence - 1 for a new log).
  uint64_t durable_sequence() const;
  // The last sequence number handed out (durable or not).
  uint64_t last_sequence() const;
  // The oldest sequence number still retained (not released).
  uint64_t first_sequence() const;

  // OK, or the error that stopped the Wal.
  absl::Status health() const;
  WalStats stats() const;
  const RecoveryInfo& recovery() const;

  // A reader of the durable records from `from_sequence` on, for
  // replication catch-up; the reader never returns a record that is not yet
  // durable.
  //  NotFound    from_sequence was released (below first_sequence())
  //  OutOfRange  from_sequence > durable_sequence() + 1
  absl::StatusOr<std::unique_ptr<WalReader>> NewReader(uint64_t from_sequence);

  // Removes every segment all of whose records have sequences below
  // `below_sequence` (after a checkpoint made them unnecessary). Never
  // removes the segment being written. Segments are removed oldest first,
  // each removal made durable before the next, so a crash leaves a
  // contiguous log. A failure here does not stop appends, but further
  // releases fail with it.
  absl::Status Release(uint64_t below_sequence);

 private:
  explicit Wal(std::shared_ptr<internal::WalCore> core);
  std::shared_ptr<internal::WalCore> core_;
};

// Reads durable records in sequence order. Single fiber use. Holds the
// state it needs from its Wal; stops working (FailedPrecondition) once the
// Wal is closed.
class WalReader {
 public:
  ~WalReader();
  WalReader(const WalReader&) = delete;
  WalReader& operator=(const WalReader&) = delete;

  // The next record, or nullopt when every durable record has been read
  // (call again later for more).
  //  DataLoss            a record that fails verification, or a missing segment
  //  NotFound            the segment holding the next record was released
  //  FailedPrecondition  the Wal was closed
  absl::StatusOr<std::optional<Record>> Next();

  // The sequence number Next() will return next.
  uint64_t next_sequence() const { return next_sequence_; }

 private:
  friend class Wal;
  WalReader(std::shared_ptr<internal::WalCore> core, uint64_t from_sequence);
  absl::Status OpenSegmentFor(uint64_t sequence);

  std::shared_ptr<internal::WalCore> core_;
  uint64_t next_sequence_;
  std::unique_ptr<io::File> file_;
  std::string path_;
  uint64_t offset_bytes_ = 0;
  uint32_t salt_ = 0;  // of the open segment
};

}  // namespace faultline::wal
