// core/wal/wal.cc — the Wal facade: option checks, Open (recover, then start
// the flusher), and the calls that hand over to the shared core. See wal.h
// for the contracts and FORMAT.md for the bytes; recovery.cc, writer.cc and
// reader.cc hold the parts.
#include "core/wal/wal.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/status_macros.h"
#include "core/wal/format.h"
#include "core/wal/internal/wal_core.h"

namespace faultline::wal {

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
  // Release never removes the active segment, so one segment alone could
  // never make room again once full: at least two.
  if (o.max_segments < 2 || o.max_segments > format::kMaxSegments) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_segments must be in [2, ", format::kMaxSegments, "]"));
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
  const uint32_t sector = o.sector_bytes;
  if (sector != 0 && (sector < 512 || sector > format::kMaxSectorBytes || (sector & (sector - 1)) != 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sector_bytes must be 0 or a power of two in [512, ", format::kMaxSectorBytes, "]"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Wal>> Wal::Open(io::FileSystem& fs, runtime::Executor& executor,
                                               std::string_view dir, const WalOptions& options) {
  FAULTLINE_RETURN_IF_ERROR(ValidateOptions(options));
  FAULTLINE_RETURN_IF_ERROR(io::ValidatePath(dir));
  auto core = std::make_shared<internal::WalCore>(fs, executor, std::string(dir), options);
  FAULTLINE_RETURN_IF_ERROR(core->Recover());
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

}  // namespace faultline::wal
