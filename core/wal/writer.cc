// core/wal/writer.cc — the writer side of the Wal: append with back-pressure,
// the group-commit flusher (batches, rotation, fail-stop), Flush, Close,
// abandonment and release (wal.h has the contracts).
#include <algorithm>
#include <utility>

#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/io/errors.h"
#include "core/wal/internal/wal_core.h"
#include "spdlog/spdlog.h"

namespace faultline::wal::internal {

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
    FAULTLINE_RETURN_IF_ERROR(UsableStatus());
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
  FAULTLINE_RETURN_IF_ERROR(UsableStatus());
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
  // A Release in flight still removes segments and holds the directory's
  // lock: wait for it, so that the directory opens again once Close returns.
  { runtime::MutexLock wait_for_release(release_mutex_); }
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
    uint32_t salt = 0;
    TakeBatch(&rotate_first, &salt);
    FAULTLINE_CHECK(!batch_.empty());
    space_.Set();
    const absl::Status status = WriteBatch(rotate_first, salt);
    if (!status.ok()) {
      FailStop(status);
      break;
    }
    // The watermark only rises, by exactly this batch, and only over bytes
    // the batch's successful sync covered.
    FAULTLINE_CHECK(batch_.front().sequence == durable_sequence_ + 1);
    FAULTLINE_CHECK(batch_.back().sequence < next_sequence_);
    FAULTLINE_CHECK(active_durable_bytes_ == active_bytes_);
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

void WalCore::TakeBatch(bool* rotate_first, uint32_t* salt) {
  FAULTLINE_CHECK(!queue_.empty() && batch_.empty());
  const uint64_t first_frame_bytes = format::FrameBytes(queue_.front().payload_bytes);
  // A tail off a sector boundary (recovery cut a torn batch in its middle)
  // shares its sector with synced records: write on in a new segment.
  const bool unaligned_tail =
      options_.sector_bytes != 0 && active_bytes_ % options_.sector_bytes != 0;
  *rotate_first = active_records_ > 0 &&
                  (unaligned_tail ||
                   Padded(active_bytes_ + first_frame_bytes) > options_.segment_size_bytes);
  const uint64_t segment_bytes = *rotate_first ? HeaderRegionBytes() : active_bytes_;
  uint64_t batch_bytes = 0;
  while (!queue_.empty() && batch_.size() < options_.max_batch_records) {
    const uint64_t frame_bytes = format::FrameBytes(queue_.front().payload_bytes);
    if (!batch_.empty() &&
        (batch_bytes + frame_bytes > options_.max_batch_bytes ||
         Padded(segment_bytes + batch_bytes + frame_bytes) > options_.segment_size_bytes)) {
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
  *salt = *rotate_first ? NewSegmentSalt(batch_.front().sequence) : segments_.back().salt;
  size_t offset = 0;
  // Frame sequences rise by exactly one, from the record after the durable
  // end (the flusher writes batches one after another).
  FAULTLINE_CHECK(batch_.front().sequence == durable_sequence_ + 1);
  uint64_t expected_sequence = batch_.front().sequence;
  for (const Pending& pending : batch_) {
    FAULTLINE_CHECK(pending.sequence == expected_sequence);
    ++expected_sequence;
    format::FrameHeader header;
    header.payload_bytes = pending.payload_bytes;
    header.sequence = pending.sequence;
    header.durable_watermark = durable_sequence_;
    format::EncodeFrameHeader(header, pending.payload_crc, *salt, &batch_buffer_[offset]);
    offset += format::FrameBytes(pending.payload_bytes);
  }
  FAULTLINE_CHECK(offset == batch_buffer_.size());
  // The batch ends on a sector boundary, so the next one never rewrites a
  // sector holding these records once they are acknowledged.
  const uint64_t padding = format::PaddingBytes(segment_bytes + batch_bytes, options_.sector_bytes);
  if (padding != 0) format::AppendPadding(&batch_buffer_, padding, durable_sequence_, *salt);
  batch_padding_bytes_ = padding;
}

absl::Status WalCore::Rotate(uint64_t first_sequence, uint32_t salt) {
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
  status = WriteSegmentHeader(**opened, path, first_sequence, salt);
  if (!status.ok()) return status;
  // The old segment was synced by its last batch; a close error loses nothing.
  status = active_file_->Close();
  if (!status.ok()) spdlog::warn("wal {}: closing a full segment: {}", dir_, status.ToString());
  active_file_ = *std::move(opened);
  segments_.push_back(Segment{first_sequence, path, salt});
  active_bytes_ = active_durable_bytes_ = HeaderRegionBytes();
  active_records_ = 0;
  ++stats_.rotations;
  return absl::OkStatus();
}

absl::Status WalCore::WriteBatch(bool rotate_first, uint32_t salt) {
  if (rotate_first) {
    FAULTLINE_RETURN_IF_ERROR(Rotate(batch_.front().sequence, salt));
  }
  // Nothing is written for a Wal that was destroyed meanwhile: the owner may
  // be about to reopen the directory.
  FAULTLINE_RETURN_IF_ERROR(CheckAbandoned());
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
  stats_.bytes_written += batch_buffer_.size() - batch_padding_bytes_;
  stats_.padding_bytes += batch_padding_bytes_;
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
  if (closing_) return absl::FailedPreconditionError(absl::StrCat("wal ", dir_, " is closed"));
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

}  // namespace faultline::wal::internal
