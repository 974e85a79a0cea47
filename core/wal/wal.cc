// core/wal/wal.cc — the Wal: recovery, the group-commit flusher, rotation,
// the reader and release. See wal.h for the contracts and FORMAT.md for the
// bytes.
#include "core/wal/wal.h"

#include <algorithm>
#include <deque>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/io/errors.h"
#include "core/runtime/event.h"
#include "core/runtime/mutex.h"
#include "core/runtime/spawn.h"
#include "core/wal/format.h"
#include "spdlog/spdlog.h"

namespace faultline::wal {
namespace {

// Recovery reads a segment in chunks of this size.
constexpr size_t kReadChunkBytes = 1u << 20;

absl::string_view Abs(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Prefixes `context` to a status from the file system, keeping its code (so
// io::IsIoError and friends still work on the result).
absl::Status Annotate(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(Abs(context), ": ", status.message()));
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

absl::Status DataLossAt(std::string_view path, uint64_t offset_bytes, std::string_view what) {
  return absl::DataLossError(
      absl::StrCat("wal segment ", Abs(path), " offset ", offset_bytes, ": ", Abs(what)));
}

// Reads all `size_bytes` of `file` into `out`.
absl::Status ReadWhole(io::File& file, uint64_t size_bytes, std::string* out) {
  out->assign(size_bytes, '\0');
  uint64_t done = 0;
  // Bounded: each iteration reads at least one byte or fails.
  while (done < size_bytes) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kReadChunkBytes, size_bytes - done));
    absl::StatusOr<size_t> got = file.ReadAt(done, absl::Span<char>(out->data() + done, want));
    if (!got.ok()) return got.status();
    if (*got == 0) {  // shrank under us: not expected, but keep what is there
      out->resize(done);
      return absl::OkStatus();
    }
    done += *got;
  }
  return absl::OkStatus();
}

// Reads exactly out.size() bytes at `offset`; the count read otherwise.
absl::StatusOr<size_t> ReadFull(io::File& file, uint64_t offset, absl::Span<char> out) {
  size_t done = 0;
  while (done < out.size()) {  // bounded: each iteration reads >= 1 byte or stops
    absl::StatusOr<size_t> got = file.ReadAt(offset + done, out.subspan(done));
    if (!got.ok()) return got.status();
    if (*got == 0) break;
    done += *got;
  }
  return done;
}

}  // namespace

namespace internal {

struct Segment {
  uint64_t first_sequence = 0;
  std::string path;
  uint32_t salt = 0;  // from its header (format::SegmentHeader::salt)
};

absl::Status CancelledByAbandonment() {
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

  uint32_t SegmentSalt(uint64_t first_sequence) const {
    return format::SegmentSalt(options_.salt_seed, first_sequence);
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
  WalStats stats_;
  RecoveryInfo recovery_;

 private:
  // --- recovery ---
  absl::Status InitializeSegment(uint64_t first_sequence, std::unique_ptr<io::File>* file);
  // Cancelled once the Wal was abandoned: the flusher checks it after every
  // I/O call, so that it stops before writing anything more.
  absl::Status CheckAbandoned() const {
    return abandoned_ ? CancelledByAbandonment() : absl::OkStatus();
  }
  // Writes and syncs a new segment's header and syncs the directory; on
  // failure removes the file (best effort).
  absl::Status WriteSegmentHeader(io::File& file, const std::string& path,
                                  uint64_t first_sequence);
  // Whether a segment at or after firsts[from_index] has anything past its
  // header (then the segment before it is not the newest).
  absl::StatusOr<bool> LaterSegmentHoldsRecords(const std::vector<uint64_t>& firsts,
                                                size_t from_index);
  bool LaterFrameProvesLoss(std::string_view bytes, uint64_t from_offset, uint64_t expected,
                            uint32_t salt, uint64_t* found_offset,
                            format::FrameHeader* found) const;

  // --- flusher ---
  void FlusherMain();
  bool WaitForBatch();
  // Moves the next batch from queue_ / queued_frames_ into batch_ /
  // batch_buffer_.
  void TakeBatch(bool* rotate_first);
  absl::Status WriteBatch(bool rotate_first);
  absl::Status Rotate(uint64_t first_sequence);
  void FailStop(const absl::Status& status);
  void FailQueued(const absl::Status& status);
};

absl::Status WalCore::InitializeSegment(uint64_t first_sequence,
                                        std::unique_ptr<io::File>* file) {
  const std::string path = io::JoinPath(dir_, format::SegmentName(first_sequence));
  absl::StatusOr<std::unique_ptr<io::File>> opened = fs_.Open(path, io::OpenMode::kCreateTruncate);
  if (!opened.ok()) return Annotate(opened.status(), absl::StrCat("create ", path));
  absl::Status status = WriteSegmentHeader(**opened, path, first_sequence);
  if (!status.ok()) return status;
  *file = *std::move(opened);
  return absl::OkStatus();
}

absl::Status WalCore::WriteSegmentHeader(io::File& file, const std::string& path,
                                         uint64_t first_sequence) {
  const std::string header =
      format::EncodeSegmentHeader(first_sequence, SegmentSalt(first_sequence));
  absl::Status status = file.WriteAt(0, header);
  if (status.ok()) status = CheckAbandoned();
  if (status.ok()) {
    // The header is durable before any record goes in, so that a segment
    // with a bad header and nothing after it can only be an interrupted
    // creation (see FORMAT.md, recovery).
    status = file.Sync();
    ++stats_.file_syncs;
    if (status.ok()) status = CheckAbandoned();
    if (status.ok()) {
      // The new entry must be durable before any record in the segment is
      // acknowledged, or a crash could drop the whole file.
      status = fs_.SyncDir(dir_);
      ++stats_.dir_syncs;
      if (!status.ok()) status = Annotate(status, absl::StrCat("sync dir ", dir_));
      if (status.ok()) status = CheckAbandoned();
    } else if (!absl::IsCancelled(status)) {
      status = Annotate(status, absl::StrCat("fdatasync header of ", path));
    }
  } else if (!absl::IsCancelled(status)) {
    status = Annotate(status, absl::StrCat("write header of ", path));
  }
  if (!status.ok() && !io::IsNodeDead(status)) {
    // Remove the half-made segment. After a failed sync the page cache may
    // still show a valid header that never reached the disk; a reopen in
    // this process would then write records behind a header a crash loses.
    // Without the file, a crash can at most resurrect a header-only file,
    // which recovery recognises as a torn creation.
    absl::Status removed = fs_.Remove(path);
    if (!removed.ok()) {
      spdlog::warn("wal {}: removing half-made segment {}: {}", dir_, path, removed.ToString());
    }
  }
  return status;
}

absl::StatusOr<bool> WalCore::LaterSegmentHoldsRecords(const std::vector<uint64_t>& firsts,
                                                       size_t from_index) {
  // Bounded by the number of segments; runs only when a bad frame was found.
  for (size_t j = from_index; j < firsts.size(); ++j) {
    const std::string path = io::JoinPath(dir_, format::SegmentName(firsts[j]));
    absl::StatusOr<std::unique_ptr<io::File>> file = fs_.Open(path, io::OpenMode::kReadWrite);
    if (!file.ok()) return Annotate(file.status(), absl::StrCat("open ", path));
    absl::StatusOr<uint64_t> size = (*file)->Size();
    if (!size.ok()) return Annotate(size.status(), absl::StrCat("size of ", path));
    if (*size > format::kSegmentHeaderBytes) return true;
  }
  return false;
}

bool WalCore::LaterFrameProvesLoss(std::string_view bytes, uint64_t from_offset,
                                   uint64_t expected, uint32_t salt, uint64_t* found_offset,
                                   format::FrameHeader* found) const {
  // A valid frame after the bad one whose watermark says record `expected`
  // was already durable when it was written: the bad record had been
  // acknowledged, so this is corruption, not a torn write. Frames with a
  // lower watermark were written in the same unsynced stretch as the bad
  // record and go with the torn tail. Bounded by the segment's size; the
  // cheap field checks skip almost every offset before any CRC is computed.
  for (uint64_t offset = from_offset; offset + format::kFrameHeaderBytes <= bytes.size();
       ++offset) {
    const format::FrameHeader header =
        format::DecodeFrameHeader(bytes.substr(offset, format::kFrameHeaderBytes));
    if (header.durable_watermark < expected || header.sequence < expected) continue;
    if (header.sequence - expected > bytes.size()) continue;  // cannot be this log's
    // The segment's salt: frames of another log or segment, embedded in a
    // payload, do not verify here (FORMAT.md).
    const format::DecodedFrame frame = format::DecodeFrame(bytes.substr(offset), salt);
    if (frame.problem != format::FrameProblem::kNone) continue;
    *found_offset = offset;
    *found = frame.header;
    return true;
  }
  return false;
}

absl::Status WalCore::Recover() {
  absl::Status status = fs_.CreateDir(dir_);
  if (!status.ok()) return Annotate(status, absl::StrCat("create dir ", dir_));
  // One Wal per directory (wal.h): refused while another holds the lock.
  absl::StatusOr<std::unique_ptr<io::FileLock>> lock = fs_.LockFile(dir_);
  if (!lock.ok()) {
    return Annotate(lock.status(), absl::StrCat("wal ", dir_, " is in use by another Wal"));
  }
  lock_ = *std::move(lock);
  // The directory's own creation must be durable before anything in it is.
  status = fs_.SyncDir(io::ParentDir(dir_));
  ++stats_.dir_syncs;
  if (!status.ok()) return Annotate(status, absl::StrCat("sync parent of ", dir_));

  absl::StatusOr<std::vector<std::string>> names = fs_.List(dir_);
  if (!names.ok()) return Annotate(names.status(), absl::StrCat("list ", dir_));
  // The writer keeps at most kMaxSegments; one more may be a leftover of an
  // interrupted creation (format.h).
  if (names->size() > format::kMaxSegments + 1) {
    return absl::FailedPreconditionError(absl::StrCat("wal ", dir_, " holds ", names->size(),
                                                      " files, more than ",
                                                      format::kMaxSegments + 1));
  }
  std::vector<uint64_t> firsts;
  for (const std::string& name : *names) {
    std::optional<uint64_t> first = format::ParseSegmentName(name);
    if (!first.has_value()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "wal directory ", dir_, " holds a file that is not a wal segment: '", name, "'"));
    }
    firsts.push_back(*first);
  }
  // List() is sorted bytewise, and fixed-width names sort numerically.
  FAULTLINE_CHECK(std::is_sorted(firsts.begin(), firsts.end()));

  std::unique_ptr<io::File> last_file;
  uint64_t last_bytes = 0;  // the newest kept segment's size after recovery
  uint64_t expected = 0;    // the sequence the next record must carry
  std::optional<uint64_t> removed_first;  // first sequence of the first removed empty segment
  std::string bytes;

  for (size_t i = 0; i < firsts.size(); ++i) {
    const std::string path = io::JoinPath(dir_, format::SegmentName(firsts[i]));
    absl::StatusOr<std::unique_ptr<io::File>> file = fs_.Open(path, io::OpenMode::kReadWrite);
    if (!file.ok()) return Annotate(file.status(), absl::StrCat("open ", path));
    absl::StatusOr<uint64_t> size = (*file)->Size();
    if (!size.ok()) return Annotate(size.status(), absl::StrCat("size of ", path));
    if (*size > format::kMaxSegmentFileBytes) {
      return absl::FailedPreconditionError(
          absl::StrCat("wal segment ", path, " is ", *size, " bytes, above the limit"));
    }
    status = ReadWhole(**file, *size, &bytes);
    if (!status.ok()) return Annotate(status, absl::StrCat("read ", path));

    const format::DecodedHeader header = format::DecodeSegmentHeader(bytes);
    if (header.problem == format::HeaderProblem::kFutureVersion ||
        header.problem == format::HeaderProblem::kOldVersion) {
      return absl::FailedPreconditionError(
          absl::StrCat("wal segment ", path, " has format version ", header.header.version,
                       "; this build reads version ", format::kFormatVersion, " only"));
    }
    // A file with nothing past the header holds no record, so dropping it
    // loses nothing. Headers are synced before any record is written, so a
    // bad header with nothing after it is a creation that a crash or a
    // failed sync interrupted; a good one that does not start where the log
    // so far ends belongs to a rotation that failed (the Wal then went on in
    // the previous segment) and that a crash brought back.
    const bool holds_no_record = bytes.size() <= format::kSegmentHeaderBytes;
    const bool leftover =
        holds_no_record && (header.problem != format::HeaderProblem::kNone ||
                            (!segments_.empty() && firsts[i] < expected));
    if (leftover) {
      spdlog::warn("wal {}: removing segment {} that holds no record ({})", dir_, path,
                   format::HeaderProblemName(header.problem));
      (*file).reset();
      status = fs_.Remove(path);
      if (!status.ok()) return Annotate(status, absl::StrCat("remove ", path));
      status = fs_.SyncDir(dir_);
      ++stats_.dir_syncs;
      if (!status.ok()) return Annotate(status, absl::StrCat("sync dir ", dir_));
      ++recovery_.removed_empty_segments;
      if (!removed_first.has_value()) removed_first = firsts[i];
      continue;
    }
    if (header.problem != format::HeaderProblem::kNone) {
      return DataLossAt(path, 0, format::HeaderProblemName(header.problem));
    }
    if (header.header.first_sequence != firsts[i]) {
      return DataLossAt(path, 0, absl::StrCat("header says first sequence ",
                                              header.header.first_sequence,
                                              ", the file name says ", firsts[i]));
    }
    if (!segments_.empty() && firsts[i] != expected) {
      return DataLossAt(path, 0, absl::StrCat("segment starts at sequence ", firsts[i],
                                              " but the previous segment ends before ",
                                              expected, " (a segment is missing)"));
    }
    expected = firsts[i];

    uint64_t offset = format::kSegmentHeaderBytes;
    // Bounded: each iteration consumes a whole frame (>= kFrameHeaderBytes
    // + 1 bytes) or leaves the loop.
    while (offset < bytes.size()) {
      const format::DecodedFrame frame =
          format::DecodeFrame(std::string_view(bytes).substr(offset), header.header.salt);
      if (frame.problem == format::FrameProblem::kNone) {
        if (frame.header.sequence != expected) {
          return DataLossAt(path, offset,
                            absl::StrCat("record carries sequence ", frame.header.sequence,
                                         " where ", expected, " was expected"));
        }
        ++expected;
        ++recovery_.records;
        offset += format::FrameBytes(frame.payload.size());
        continue;
      }
      // Older segments were wholly synced before the next one was created;
      // only the newest one that holds records can end in a torn tail.
      absl::StatusOr<bool> later_records = LaterSegmentHoldsRecords(firsts, i + 1);
      if (!later_records.ok()) return later_records.status();
      if (*later_records) return DataLossAt(path, offset, format::FrameProblemName(frame.problem));
      uint64_t later_offset = 0;
      format::FrameHeader later;
      if (LaterFrameProvesLoss(bytes, offset + 1, expected, header.header.salt, &later_offset,
                               &later)) {
        return DataLossAt(path, offset,
                          absl::StrCat(Abs(format::FrameProblemName(frame.problem)),
                                       " (record ", expected, "), yet the valid record ",
                                       later.sequence, " at offset ", later_offset,
                                       " was written after records up to ",
                                       later.durable_watermark, " were durable"));
      }
      // A torn tail: cut it off, durably, before anything can be appended
      // behind it (stale frames past new records would confuse a later
      // recovery).
      spdlog::warn("wal {}: truncating torn tail of {} at offset {} ({} bytes)", dir_, path,
                   offset, bytes.size() - offset);
      status = (*file)->Truncate(offset);
      if (!status.ok()) return Annotate(status, absl::StrCat("truncate ", path));
      status = (*file)->Sync();
      ++stats_.file_syncs;
      if (!status.ok()) return Annotate(status, absl::StrCat("fdatasync ", path));
      recovery_.truncated_bytes += bytes.size() - offset;
      bytes.resize(offset);
      break;
    }
    last_file = *std::move(file);
    last_bytes = bytes.size();
    segments_.push_back(Segment{firsts[i], path, header.header.salt});
  }
  bytes.clear();
  bytes.shrink_to_fit();

  if (segments_.empty()) {
    const uint64_t first = removed_first.value_or(options_.initial_sequence);
    status = InitializeSegment(first, &last_file);
    if (!status.ok()) return status;
    segments_.push_back(
        Segment{first, io::JoinPath(dir_, format::SegmentName(first)), SegmentSalt(first)});
    last_bytes = format::kSegmentHeaderBytes;
    expected = first;
    recovery_.created_segment = true;
  } else {
    // Whatever recovery read may still be only in the page cache (the crash
    // was the process's, not the machine's): make the recovered state
    // durable before any append can be acknowledged on top of it. The size
    // is set again first: a truncation made by an earlier recovery or by a
    // fail-stop cut-back whose sync failed is visible in the cache but may
    // not be durable, and stale bytes past the end would surface behind the
    // records appended now.
    status = last_file->Truncate(last_bytes);
    if (!status.ok()) return Annotate(status, absl::StrCat("truncate ", segments_.back().path));
    status = last_file->Sync();
    ++stats_.file_syncs;
    if (!status.ok()) return Annotate(status, absl::StrCat("sync ", segments_.back().path));
    // The same reasoning holds for the directory: a segment whose header
    // sync completed but whose creation's SyncDir never did (the process
    // died in between) reads back fine from the cache, yet a power loss
    // would drop its name and every record acknowledged in it from now on.
    status = fs_.SyncDir(dir_);
    ++stats_.dir_syncs;
    if (!status.ok()) return Annotate(status, absl::StrCat("sync dir ", dir_));
  }
  recovery_.segments = static_cast<uint32_t>(segments_.size());
  active_file_ = std::move(last_file);
  active_bytes_ = active_durable_bytes_ = last_bytes;
  active_records_ = expected - segments_.back().first_sequence;
  next_sequence_ = expected;
  durable_sequence_ = expected - 1;
  flush_through_ = durable_sequence_;
  return absl::OkStatus();
}

void WalCore::StartFlusher(std::shared_ptr<WalCore> self) {
  flusher_ = runtime::Spawn(executor_, absl::StrCat("wal-flusher:", dir_),
                            [self = std::move(self)] { self->FlusherMain(); });
}

absl::StatusOr<AppendResult> WalCore::Enqueue(absl::Span<const std::string_view> payloads) {
  if (payloads.empty()) return absl::InvalidArgumentError("AppendBatch of no records");
  if (payloads.size() > options_.max_queued_records) {
    return absl::InvalidArgumentError(absl::StrCat("AppendBatch of ", payloads.size(),
                                                   " records exceeds max_queued_records ",
                                                   options_.max_queued_records));
  }
  uint64_t total_bytes = 0;
  for (std::string_view payload : payloads) {
    if (payload.empty()) return absl::InvalidArgumentError("empty wal record");
    if (payload.size() > options_.max_record_bytes) {
      return absl::InvalidArgumentError(absl::StrCat("wal record of ", payload.size(),
                                                     " bytes exceeds max_record_bytes ",
                                                     options_.max_record_bytes));
    }
    total_bytes += payload.size();
  }
  if (total_bytes > options_.max_queued_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("AppendBatch of ", total_bytes,
                                                   " bytes exceeds max_queued_bytes ",
                                                   options_.max_queued_bytes));
  }
  // Back-pressure. Each iteration parks until the flusher frees space (or
  // the Wal stops); the sequence numbers are assigned only after the last
  // park, so queue order is sequence order.
  for (;;) {
    absl::Status usable = UsableStatus();
    if (!usable.ok()) return usable;
    if (queue_.size() + payloads.size() <= options_.max_queued_records &&
        queued_bytes_ + total_bytes <= options_.max_queued_bytes) {
      break;
    }
    // Tell the flusher not to sit out its interval: somebody is blocked.
    // (The count is restored on unwinding too.)
    struct CountWaiter {
      explicit CountWaiter(uint32_t& count) : count_(count) { ++count_; }
      ~CountWaiter() { --count_; }
      uint32_t& count_;
    } waiting(space_waiters_);
    work_.Set();
    space_.Reset();
    space_.Wait();
  }
  if (next_sequence_ > UINT64_MAX - payloads.size()) {
    return absl::OutOfRangeError("wal sequence numbers exhausted");
  }
  AppendResult result;
  result.first_sequence = next_sequence_;
  // The clock is read only when the flush interval needs it.
  const int64_t now_ns = options_.flush_interval_ns > 0 ? executor_.NowNs() : 0;
  for (size_t i = 0; i < payloads.size(); ++i) {
    Pending pending;
    pending.sequence = next_sequence_++;
    pending.payload_bytes = static_cast<uint32_t>(payloads[i].size());
    pending.enqueued_ns = now_ns;
    if (i + 1 == payloads.size()) {
      pending.promise.emplace(executor_);
      result.durable = pending.promise->GetFuture();
    }
    pending.payload_crc = format::PayloadCrc(payloads[i]);
    queued_frames_.append(format::kFrameHeaderBytes, '\0');  // filled in by TakeBatch
    queued_frames_.append(payloads[i].data(), payloads[i].size());
    queue_.push_back(std::move(pending));
  }
  queued_bytes_ += total_bytes;
  result.last_sequence = next_sequence_ - 1;
  work_.Set();
  return result;
}

absl::Status WalCore::Flush() {
  absl::Status usable = UsableStatus();
  if (!usable.ok()) return usable;
  const uint64_t target = next_sequence_ - 1;
  if (durable_sequence_ >= target) return absl::OkStatus();
  flush_through_ = target;
  work_.Set();
  // Each iteration parks until the next batch is durable or the flusher
  // stops; bounded by the records queued before this call.
  while (durable_sequence_ < target) {
    if (!failure_.ok()) return failure_;
    if (abandoned_) return CancelledByAbandonment();
    durable_advanced_.Reset();
    durable_advanced_.Wait();
  }
  return absl::OkStatus();
}

absl::Status WalCore::Close() {
  if (closed_) return failure_.ok() ? cancelled_ : failure_;
  closing_ = true;
  work_.Set();
  space_.Set();
  if (flusher_.valid()) flusher_.Join();
  closed_ = true;
  if (active_file_ != nullptr) {
    absl::Status status = active_file_->Close();
    active_file_.reset();
    if (!status.ok() && failure_.ok()) {
      // Every record was synced before this point; a close error loses nothing.
      spdlog::warn("wal {}: closing the active segment: {}", dir_, status.ToString());
    }
  }
  return failure_.ok() ? cancelled_ : failure_;
}

void WalCore::Abandon() {
  // Called by ~Wal: must not park. The flusher notices and exits.
  abandoned_ = true;
  closing_ = true;
  work_.Set();
  space_.Set();
}

void WalCore::FlusherMain() {
  // One iteration per batch, until Close, abandonment or a failure.
  for (;;) {
    if (!WaitForBatch()) break;
    // Let every fiber that is runnable now run first: appenders woken by the
    // previous batch are about to queue their next records. Taking the batch
    // before they do would split the appenders into groups that take turns,
    // each batch half as big, for good (a rotation that splits one batch
    // was enough to start it).
    executor_.Yield();
    if (abandoned_) break;
    bool rotate_first = false;
    TakeBatch(&rotate_first);
    FAULTLINE_CHECK(!batch_.empty());
    space_.Set();
    const absl::Status status = WriteBatch(rotate_first);
    if (!status.ok()) {
      FailStop(status);
      break;
    }
    FAULTLINE_CHECK(batch_.back().sequence > durable_sequence_);
    durable_sequence_ = batch_.back().sequence;
    // In sequence order: queue order is sequence order.
    for (Pending& pending : batch_) {
      if (pending.promise.has_value()) pending.promise->Set(pending.sequence);
    }
    batch_.clear();
    durable_advanced_.Set();
  }
  if (abandoned_ && !queue_.empty()) {
    cancelled_ = CancelledByAbandonment();
    FailQueued(cancelled_);
  }
  FAULTLINE_CHECK(queue_.empty() || abandoned_);
  FAULTLINE_CHECK(batch_.empty());
  lock_.reset();  // from now on the directory may be opened again
  durable_advanced_.Set();  // Flush() callers see the failure or the end
}

bool WalCore::WaitForBatch() {
  // Each iteration either decides or parks once.
  for (;;) {
    if (abandoned_ || !failure_.ok()) return false;
    if (queue_.empty()) {
      if (closing_) return false;
      work_.Reset();
      work_.Wait();
      continue;
    }
    const Pending& oldest = queue_.front();
    const int64_t deadline_ns = runtime::DeadlineAfter(oldest.enqueued_ns, options_.flush_interval_ns);
    if (closing_ || oldest.sequence <= flush_through_ || space_waiters_ > 0 ||
        queue_.size() >= options_.max_batch_records || queued_bytes_ >= options_.max_batch_bytes ||
        executor_.NowNs() >= deadline_ns) {
      return true;
    }
    work_.Reset();
    work_.WaitUntil(deadline_ns);
  }
}

void WalCore::TakeBatch(bool* rotate_first) {
  FAULTLINE_CHECK(!queue_.empty() && batch_.empty());
  const uint64_t first_frame_bytes = format::FrameBytes(queue_.front().payload_bytes);
  *rotate_first = active_records_ > 0 &&
                  active_bytes_ + first_frame_bytes > options_.segment_size_bytes;
  const uint64_t segment_bytes = *rotate_first ? format::kSegmentHeaderBytes : active_bytes_;
  uint64_t batch_bytes = 0;
  while (!queue_.empty() && batch_.size() < options_.max_batch_records) {
    const uint64_t frame_bytes = format::FrameBytes(queue_.front().payload_bytes);
    if (!batch_.empty() && (batch_bytes + frame_bytes > options_.max_batch_bytes ||
                            segment_bytes + batch_bytes + frame_bytes > options_.segment_size_bytes)) {
      break;
    }
    batch_bytes += frame_bytes;
    queued_bytes_ -= queue_.front().payload_bytes;
    batch_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  // The batch's frames are a prefix of queued_frames_. Usually they are all
  // of it: then the two buffers trade places and nothing is copied.
  FAULTLINE_CHECK(batch_bytes <= queued_frames_.size());
  if (batch_bytes == queued_frames_.size()) {
    batch_buffer_.clear();
    batch_buffer_.swap(queued_frames_);
  } else {
    batch_buffer_.assign(queued_frames_, 0, batch_bytes);
    queued_frames_.erase(0, batch_bytes);
  }
  // The headers, with the watermark as of this write and the salt of the
  // segment the batch goes into (FORMAT.md).
  const uint32_t salt =
      *rotate_first ? SegmentSalt(batch_.front().sequence) : segments_.back().salt;
  size_t offset = 0;
  for (const Pending& pending : batch_) {
    format::FrameHeader header;
    header.payload_bytes = pending.payload_bytes;
    header.sequence = pending.sequence;
    header.durable_watermark = durable_sequence_;
    format::EncodeFrameHeader(header, pending.payload_crc, salt, &batch_buffer_[offset]);
    offset += format::FrameBytes(pending.payload_bytes);
  }
  FAULTLINE_CHECK(offset == batch_buffer_.size());
}

absl::Status WalCore::Rotate(uint64_t first_sequence) {
  if (segments_.size() >= options_.max_segments) {
    // Recovery could not read a log with more (format::kMaxSegments).
    return absl::ResourceExhaustedError(
        absl::StrCat("wal ", dir_, " holds ", segments_.size(), " segments, max_segments; ",
                     "reopen and Release some"));
  }
  const std::string path = io::JoinPath(dir_, format::SegmentName(first_sequence));
  absl::StatusOr<std::unique_ptr<io::File>> opened =
      fs_.Open(path, io::OpenMode::kCreateExclusive);
  if (!opened.ok()) return Annotate(opened.status(), absl::StrCat("create ", path));
  absl::Status status = CheckAbandoned();
  if (!status.ok()) {
    (void)fs_.Remove(path);  // best effort: it holds nothing, recovery removes it too
    return status;
  }
  status = WriteSegmentHeader(**opened, path, first_sequence);
  if (!status.ok()) return status;
  // The old segment was synced by its last batch; a close error loses nothing.
  status = active_file_->Close();
  if (!status.ok()) spdlog::warn("wal {}: closing a full segment: {}", dir_, status.ToString());
  active_file_ = *std::move(opened);
  segments_.push_back(Segment{first_sequence, path, SegmentSalt(first_sequence)});
  active_bytes_ = active_durable_bytes_ = format::kSegmentHeaderBytes;
  active_records_ = 0;
  ++stats_.rotations;
  return absl::OkStatus();
}

absl::Status WalCore::WriteBatch(bool rotate_first) {
  if (rotate_first) {
    absl::Status status = Rotate(batch_.front().sequence);
    if (!status.ok()) return status;
  }
  // Nothing is written for a Wal that was destroyed meanwhile: the owner may
  // be about to reopen the directory.
  absl::Status abandoned = CheckAbandoned();
  if (!abandoned.ok()) return abandoned;
  FAULTLINE_CHECK(batch_.front().sequence == durable_sequence_ + 1);
  FAULTLINE_CHECK(batch_.front().sequence ==
                  segments_.back().first_sequence + active_records_);
  const std::string& path = segments_.back().path;
  // One call, so that core/posix does the write and the sync in one trip.
  // The bytes count as written even on failure: a failed write may have
  // landed in part, and FailStop cuts the segment back to what is durable.
  absl::Status status = active_file_->WriteAtAndSync(active_bytes_, batch_buffer_);
  active_bytes_ += batch_buffer_.size();
  active_records_ += batch_.size();
  ++stats_.file_syncs;
  if (!status.ok()) return Annotate(status, absl::StrCat("write+fdatasync ", path));
  active_durable_bytes_ = active_bytes_;
  ++stats_.batches;
  stats_.records_written += batch_.size();
  stats_.bytes_written += batch_buffer_.size();
  // Keep the buffer's capacity for later batches (it becomes the queue's
  // buffer at the next swap) unless a burst inflated it far past the batch
  // bound.
  if (batch_buffer_.capacity() > 2 * options_.max_batch_bytes + format::kFrameHeaderBytes) {
    std::string().swap(batch_buffer_);
  }
  return absl::OkStatus();
}

void WalCore::FailQueued(const absl::Status& status) {
  // Bounded by the queue's bound.
  for (Pending& pending : queue_) {
    if (pending.promise.has_value()) pending.promise->Set(status);
  }
  queue_.clear();
  queued_frames_.clear();
  queued_bytes_ = 0;
}

void WalCore::FailStop(const absl::Status& status) {
  failure_ = status;
  if (io::IsNodeDead(status)) {
    // The node crashed under us: expected in simulation, nothing to repair.
    spdlog::debug("wal {}: stopping, the node crashed: {}", dir_, status.ToString());
  } else if (abandoned_ && absl::IsCancelled(status)) {
    spdlog::debug("wal {}: stopping mid-batch, the wal was destroyed", dir_);
    cancelled_ = status;
  } else {
    spdlog::error("wal {}: stopping after a failed write or sync: {}", dir_, status.ToString());
  }
  for (Pending& pending : batch_) {
    if (pending.promise.has_value()) pending.promise->Set(status);
  }
  batch_.clear();
  FailQueued(status);
  space_.Set();  // parked appenders see the failure
  // Best effort: cut the segment back to what is known durable, so that a
  // reopen in this process does not read back records whose Sync failed (the
  // page cache may still serve them although the disk lost them). They were
  // never acknowledged, so dropping them is allowed.
  if (active_file_ != nullptr && active_bytes_ > active_durable_bytes_ &&
      !io::IsNodeDead(status)) {
    absl::Status cut = active_file_->Truncate(active_durable_bytes_);
    if (cut.ok()) cut = active_file_->Sync();
    if (!cut.ok()) {
      spdlog::warn("wal {}: could not cut back the failed batch: {}", dir_, cut.ToString());
    }
  }
}

absl::Status WalCore::Release(uint64_t below_sequence) {
  runtime::MutexLock lock(release_mutex_);
  if (closed_) return absl::FailedPreconditionError(absl::StrCat("wal ", dir_, " is closed"));
  if (!failure_.ok()) return UsableStatus();
  if (!release_failure_.ok()) return release_failure_;
  // The directory stays ours until the removals below are done, even if the
  // Wal is destroyed and its flusher exits meanwhile.
  const std::shared_ptr<io::FileLock> dir_lock = lock_;
  if (dir_lock == nullptr || abandoned_) {  // the flusher has exited: closing or destroyed
    return absl::FailedPreconditionError(absl::StrCat("wal ", dir_, " is closed"));
  }
  // Bounded by the number of segments. segments_[1] is re-read after every
  // park: the flusher may append segments meanwhile (never remove).
  while (segments_.size() >= 2 && segments_[1].first_sequence <= below_sequence &&
         !abandoned_) {
    const std::string path = segments_.front().path;
    absl::Status status = fs_.Remove(path);
    if (status.ok()) {
      // One removal durable before the next: a crash then can only bring back
      // the newest removed segment, and the log stays contiguous.
      status = fs_.SyncDir(dir_);
      ++stats_.dir_syncs;
      FAULTLINE_CHECK(segments_.front().path == path);
      segments_.pop_front();
    }
    if (!status.ok()) {
      release_failure_ = Annotate(status, absl::StrCat("release ", path));
      return release_failure_;
    }
  }
  return absl::OkStatus();
}

}  // namespace internal

// --- Wal --------------------------------------------------------------------

namespace {

absl::Status ValidateOptions(const WalOptions& o) {
  if (o.segment_size_bytes < format::kSegmentHeaderBytes + format::kFrameHeaderBytes + 1) {
    return absl::InvalidArgumentError("segment_size_bytes too small to hold any record");
  }
  // A configuration the writer accepts must be one recovery reads back.
  if (o.segment_size_bytes > format::kMaxSegmentFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "segment_size_bytes above ", format::kMaxSegmentFileBytes, ", which recovery reads"));
  }
  if (o.max_segments == 0 || o.max_segments > format::kMaxSegments) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_segments must be in [1, ", format::kMaxSegments, "]"));
  }
  if (o.max_record_bytes == 0 || o.max_record_bytes > format::kMaxPayloadBytes) {
    return absl::InvalidArgumentError(absl::StrCat("max_record_bytes must be in [1, ",
                                                   format::kMaxPayloadBytes, "]"));
  }
  if (o.max_queued_records == 0 || o.max_queued_bytes < o.max_record_bytes) {
    return absl::InvalidArgumentError(
        "max_queued_records must be >= 1 and max_queued_bytes >= max_record_bytes");
  }
  if (o.max_batch_records == 0 || o.max_batch_bytes == 0) {
    return absl::InvalidArgumentError("max_batch_records and max_batch_bytes must be >= 1");
  }
  if (o.flush_interval_ns < 0) return absl::InvalidArgumentError("flush_interval_ns < 0");
  if (o.initial_sequence == 0) return absl::InvalidArgumentError("initial_sequence must be >= 1");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(io::FileSystem& fs, runtime::Executor& executor,
                                               std::string_view dir, const WalOptions& options) {
  absl::Status status = ValidateOptions(options);
  if (!status.ok()) return status;
  status = io::ValidatePath(dir);
  if (!status.ok()) return status;
  auto core = std::make_shared<internal::WalCore>(fs, executor, std::string(dir), options);
  status = core->Recover();
  if (!status.ok()) return status;
  core->StartFlusher(core);
  return std::unique_ptr<Wal>(new Wal(std::move(core)));
}

Wal::Wal(std::shared_ptr<internal::WalCore> core) : core_(std::move(core)) {}

Wal::~Wal() {
  if (!core_->closed_) core_->Abandon();
}

absl::StatusOr<AppendResult> Wal::Append(std::string_view payload) {
  std::shared_ptr<internal::WalCore> core = core_;  // alive across parks
  return core->Enqueue({&payload, 1});
}

absl::StatusOr<AppendResult> Wal::AppendBatch(absl::Span<const std::string_view> payloads) {
  std::shared_ptr<internal::WalCore> core = core_;
  return core->Enqueue(payloads);
}

absl::Status Wal::Flush() {
  std::shared_ptr<internal::WalCore> core = core_;
  return core->Flush();
}

absl::Status Wal::Close() {
  std::shared_ptr<internal::WalCore> core = core_;
  return core->Close();
}

uint64_t Wal::durable_sequence() const { return core_->durable_sequence_; }
uint64_t Wal::last_sequence() const { return core_->next_sequence_ - 1; }
uint64_t Wal::first_sequence() const { return core_->segments_.front().first_sequence; }
absl::Status Wal::health() const { return core_->failure_; }
WalStats Wal::stats() const { return core_->stats_; }
const RecoveryInfo& Wal::recovery() const { return core_->recovery_; }

absl::Status Wal::Release(uint64_t below_sequence) {
  std::shared_ptr<internal::WalCore> core = core_;
  return core->Release(below_sequence);
}

absl::StatusOr<std::unique_ptr<WalReader>> Wal::NewReader(uint64_t from_sequence) {
  if (core_->closed_) return absl::FailedPreconditionError("wal is closed");
  if (from_sequence < first_sequence()) {
    return absl::NotFoundError(absl::StrCat("wal sequence ", from_sequence,
                                            " was released; the oldest retained is ",
                                            first_sequence()));
  }
  if (from_sequence > durable_sequence() + 1) {
    return absl::OutOfRangeError(absl::StrCat("wal sequence ", from_sequence,
                                              " is past the durable end ", durable_sequence()));
  }
  return std::unique_ptr<WalReader>(new WalReader(core_, from_sequence));
}

// --- WalReader --------------------------------------------------------------

WalReader::WalReader(std::shared_ptr<internal::WalCore> core, uint64_t from_sequence)
    : core_(std::move(core)), next_sequence_(from_sequence) {}

WalReader::~WalReader() = default;

absl::Status WalReader::OpenSegmentFor(uint64_t sequence) {
  file_.reset();
  const std::deque<internal::Segment>& segments = core_->segments_;
  // The last segment whose first sequence is <= `sequence` (few segments:
  // a linear scan from the back is fine and bounded by their number).
  const internal::Segment* found = nullptr;
  for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
    if (it->first_sequence <= sequence) {
      found = &*it;
      break;
    }
  }
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat("wal sequence ", sequence, " was released"));
  }
  const std::string path = found->path;
  const uint64_t first = found->first_sequence;
  absl::StatusOr<std::unique_ptr<io::File>> file =
      core_->fs_.Open(path, io::OpenMode::kReadWrite);
  if (!file.ok()) {
    if (absl::IsNotFound(file.status())) {
      return absl::NotFoundError(absl::StrCat("wal segment ", path, " was released"));
    }
    return Annotate(file.status(), absl::StrCat("open ", path));
  }
  char header_bytes[format::kSegmentHeaderBytes];
  absl::StatusOr<size_t> got = ReadFull(**file, 0, absl::Span<char>(header_bytes));
  if (!got.ok()) return Annotate(got.status(), absl::StrCat("read ", path));
  const format::DecodedHeader header =
      format::DecodeSegmentHeader(std::string_view(header_bytes, *got));
  if (header.problem != format::HeaderProblem::kNone) {
    return DataLossAt(path, 0, format::HeaderProblemName(header.problem));
  }
  if (header.header.first_sequence != first) {
    return DataLossAt(path, 0, "header and file name disagree on the first sequence");
  }
  file_ = *std::move(file);
  path_ = path;
  salt_ = header.header.salt;
  offset_bytes_ = format::kSegmentHeaderBytes;
  // Skip to `sequence` reading frame headers only (bounded by the records
  // in the segment before it).
  for (uint64_t seq = first; seq < sequence; ++seq) {
    char frame_header[format::kFrameHeaderBytes];
    got = ReadFull(*file_, offset_bytes_, absl::Span<char>(frame_header));
    if (!got.ok()) return Annotate(got.status(), absl::StrCat("read ", path_));
    if (*got < sizeof(frame_header)) return DataLossAt(path_, offset_bytes_, "segment ends early");
    const format::FrameHeader h =
        format::DecodeFrameHeader(std::string_view(frame_header, sizeof(frame_header)));
    if (h.sequence != seq || !format::PlausibleLength(h.payload_bytes)) {
      return DataLossAt(path_, offset_bytes_, "bad frame while seeking");
    }
    offset_bytes_ += format::FrameBytes(h.payload_bytes);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Record>> WalReader::Next() {
  if (core_->closed_) return absl::FailedPreconditionError("wal is closed");
  if (next_sequence_ > core_->durable_sequence_) return std::optional<Record>();
  if (file_ == nullptr) {
    absl::Status status = OpenSegmentFor(next_sequence_);
    if (!status.ok()) return status;
  }
  // At most one switch to the following segment per record.
  for (int attempt = 0; attempt < 2; ++attempt) {
    char frame_header[format::kFrameHeaderBytes];
    absl::StatusOr<size_t> got = ReadFull(*file_, offset_bytes_, absl::Span<char>(frame_header));
    if (!got.ok()) return Annotate(got.status(), absl::StrCat("read ", path_));
    if (*got == 0 && attempt == 0) {
      // End of this segment: the record is at the start of the next one.
      const std::string finished = path_;
      absl::Status status = OpenSegmentFor(next_sequence_);
      if (!status.ok()) return status;
      if (path_ == finished) return DataLossAt(path_, offset_bytes_, "a segment is missing");
      continue;
    }
    if (*got < sizeof(frame_header)) return DataLossAt(path_, offset_bytes_, "torn record");
    const format::FrameHeader h =
        format::DecodeFrameHeader(std::string_view(frame_header, sizeof(frame_header)));
    if (!format::PlausibleLength(h.payload_bytes)) {
      return DataLossAt(path_, offset_bytes_, format::FrameProblemName(format::FrameProblem::kBadLength));
    }
    Record record;
    record.payload.resize(h.payload_bytes);
    got = ReadFull(*file_, offset_bytes_ + format::kFrameHeaderBytes,
                   absl::Span<char>(record.payload.data(), record.payload.size()));
    if (!got.ok()) return Annotate(got.status(), absl::StrCat("read ", path_));
    record.payload.resize(*got);
    const format::FrameProblem problem = format::CheckFrame(h, record.payload, salt_);
    if (problem != format::FrameProblem::kNone) {
      return DataLossAt(path_, offset_bytes_, format::FrameProblemName(problem));
    }
    if (h.sequence != next_sequence_) {
      return DataLossAt(path_, offset_bytes_, absl::StrCat("record carries sequence ", h.sequence,
                                                           " where ", next_sequence_, " was expected"));
    }
    record.sequence = h.sequence;
    offset_bytes_ += format::FrameBytes(h.payload_bytes);
    ++next_sequence_;
    return std::optional<Record>(std::move(record));
  }
  return DataLossAt(path_, offset_bytes_, "a segment is missing");
}

}  // namespace faultline::wal
