// core/wal/reader.cc — WalReader: durable records in sequence order, across
// segments, verified with the frame rule of format.h (wal.h has the
// contract).
#include <utility>

#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/wal/internal/wal_core.h"

namespace faultline::wal {

using internal::Annotate;
using internal::DataLossAt;
using internal::ReadFull;

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
  // in the segment before it, each followed by at most one padding frame).
  for (uint64_t seq = first; seq < sequence;) {
    char frame_header[format::kFrameHeaderBytes];
    got = ReadFull(*file_, offset_bytes_, absl::Span<char>(frame_header));
    if (!got.ok()) return Annotate(got.status(), absl::StrCat("read ", path_));
    if (*got < sizeof(frame_header)) return DataLossAt(path_, offset_bytes_, "segment ends early");
    const format::FrameHeader h =
        format::DecodeFrameHeader(std::string_view(frame_header, sizeof(frame_header)));
    const bool padding = h.sequence == format::kPaddingSequence;
    if ((!padding && h.sequence != seq) || !format::PlausibleLength(h.payload_bytes)) {
      return DataLossAt(path_, offset_bytes_, "bad frame while seeking");
    }
    offset_bytes_ += format::FrameBytes(h.payload_bytes);
    if (!padding) ++seq;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<Record>> WalReader::Next() {
  if (core_->closed_) return absl::FailedPreconditionError("wal is closed");
  if (next_sequence_ > core_->durable_sequence_) return std::optional<Record>();
  if (file_ == nullptr) {
    FAULTLINE_RETURN_IF_ERROR(OpenSegmentFor(next_sequence_));
  }
  // At most one switch to the following segment per record, and one padding
  // frame (sector alignment) before and after it: bounded.
  bool switched = false;
  for (int step = 0; step < 4; ++step) {
    char frame_header[format::kFrameHeaderBytes];
    absl::StatusOr<size_t> got = ReadFull(*file_, offset_bytes_, absl::Span<char>(frame_header));
    if (!got.ok()) return Annotate(got.status(), absl::StrCat("read ", path_));
    if (*got == 0 && !switched) {
      // End of this segment: the record is at the start of the next one.
      switched = true;
      const std::string finished = path_;
      FAULTLINE_RETURN_IF_ERROR(OpenSegmentFor(next_sequence_));
      if (path_ == finished) return DataLossAt(path_, offset_bytes_, "a segment is missing");
      continue;
    }
    if (*got < sizeof(frame_header)) return DataLossAt(path_, offset_bytes_, "torn record");
    const format::FrameHeader h =
        format::DecodeFrameHeader(std::string_view(frame_header, sizeof(frame_header)));
    if (!format::PlausibleLength(h.payload_bytes)) {
      return DataLossAt(path_, offset_bytes_, format::FrameProblemName(format::FrameProblem::kBadLength));
    }
    if (h.sequence == format::kPaddingSequence) {
      // No record: skipped unread (recovery verified it, and a sector of it
      // may fail its reads without anything missing; FORMAT.md).
      offset_bytes_ += format::FrameBytes(h.payload_bytes);
      continue;
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
    // Records come out one sequence at a time, never past the durable end.
    FAULTLINE_CHECK(record.sequence + 1 == next_sequence_);
    FAULTLINE_CHECK(record.sequence <= core_->durable_sequence_);
    return std::optional<Record>(std::move(record));
  }
  return DataLossAt(path_, offset_bytes_, "a segment is missing");
}

}  // namespace faultline::wal
