// core/journal/snapshot_io.cc — see snapshot_io.h.
#include "core/journal/snapshot_io.h"

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"
#include "core/base/crc32c.h"
#include "core/base/status_macros.h"
#include "core/journal/snapshot_format.h"

namespace faultline::journal {
namespace {

// Buffers what the state machine writes and hands it to the file in chunks
// of at most chunk_bytes, checksumming as it goes.
class ChunkedFileSink final : public SnapshotSink {
 public:
  ChunkedFileSink(io::File& file, size_t chunk_bytes) : file_(file), chunk_bytes_(chunk_bytes) {
    buffer_.reserve(chunk_bytes_);
  }

  absl::Status Write(std::string_view bytes) override {
    // Bounded: each iteration moves min(room, rest) > 0 bytes.
    while (!bytes.empty()) {
      const size_t take = std::min(chunk_bytes_ - buffer_.size(), bytes.size());
      buffer_.append(bytes.data(), take);
      bytes.remove_prefix(take);
      if (buffer_.size() == chunk_bytes_) FAULTLINE_RETURN_IF_ERROR(Flush());
    }
    return absl::OkStatus();
  }

  absl::Status Flush() {
    if (buffer_.empty()) return absl::OkStatus();
    FAULTLINE_RETURN_IF_ERROR(file_.WriteAt(format::kHeaderBytes + body_bytes_, buffer_));
    crc_ = base::Crc32cExtend(crc_, buffer_.data(), buffer_.size());
    body_bytes_ += buffer_.size();
    buffer_.clear();
    return absl::OkStatus();
  }

  uint64_t body_bytes() const { return body_bytes_; }
  uint32_t crc() const { return crc_; }

 private:
  io::File& file_;
  const size_t chunk_bytes_;
  std::string buffer_;
  uint64_t body_bytes_ = 0;
  uint32_t crc_ = 0;
};

absl::Status Damaged(uint64_t sequence, std::string_view what) {
  return absl::DataLossError(absl::StrCat("snapshot ", sequence, ": ", AsAbsl(what)));
}

}  // namespace

absl::StatusOr<uint64_t> WriteSnapshotFile(io::File& file, const StateMachine& machine,
                                           uint64_t sequence, size_t chunk_bytes) {
  FAULTLINE_CHECK(chunk_bytes > 0);
  ChunkedFileSink sink(file, chunk_bytes);
  FAULTLINE_RETURN_IF_ERROR(machine.WriteSnapshot(sink));
  FAULTLINE_RETURN_IF_ERROR(sink.Flush());
  format::Header header;
  header.sequence = sequence;
  header.body_bytes = sink.body_bytes();
  header.body_crc = base::MaskCrc(sink.crc());
  char bytes[format::kHeaderBytes];
  format::EncodeHeader(header, bytes);
  // The header last: a file cut short before this write has no valid one.
  FAULTLINE_RETURN_IF_ERROR(file.WriteAt(0, absl::Span<const char>(bytes, sizeof(bytes))));
  return format::kHeaderBytes + sink.body_bytes();
}

absl::Status LoadSnapshotFile(io::File& file, uint64_t sequence, size_t chunk_bytes,
                              StateMachine& machine) {
  FAULTLINE_CHECK(chunk_bytes > 0);
  machine.Clear();
  absl::StatusOr<uint64_t> size = file.Size();
  if (!size.ok()) return size.status();
  char header_bytes[format::kHeaderBytes];
  absl::StatusOr<size_t> got = file.ReadAt(0, absl::Span<char>(header_bytes, sizeof(header_bytes)));
  if (!got.ok()) return got.status();
  const format::DecodedHeader decoded =
      format::DecodeHeader(std::string_view(header_bytes, *got));
  if (decoded.problem == format::HeaderProblem::kOtherVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat("snapshot ", sequence, " has format version ", decoded.header.version,
                     "; this build reads version ", format::kFormatVersion, " only"));
  }
  if (decoded.problem != format::HeaderProblem::kNone) {
    return Damaged(sequence, format::HeaderProblemName(decoded.problem));
  }
  const format::Header& header = decoded.header;
  if (header.sequence != sequence) {
    return Damaged(sequence, absl::StrCat("header says sequence ", header.sequence));
  }
  if (sequence == UINT64_MAX) {
    // No sequence number is left for the record after it: never written by
    // a journal, so hostile or damaged input.
    return Damaged(sequence, "covers the last sequence number");
  }
  if (*size != format::kHeaderBytes + header.body_bytes) {
    return Damaged(sequence, absl::StrCat("file is ", *size, " bytes, header says ",
                                          format::kHeaderBytes + header.body_bytes));
  }
  std::string chunk(chunk_bytes, '\0');
  uint32_t crc = 0;
  uint64_t offset = 0;
  absl::Status restored = absl::OkStatus();
  // Bounded by body_bytes / chunk_bytes reads (a short read is an error).
  while (offset < header.body_bytes) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(chunk_bytes, header.body_bytes - offset));
    got = file.ReadAt(format::kHeaderBytes + offset, absl::Span<char>(chunk.data(), want));
    if (!got.ok()) {
      machine.Clear();
      return got.status();
    }
    if (*got != want) {
      machine.Clear();
      return Damaged(sequence, absl::StrCat("short read at body offset ", offset));
    }
    crc = base::Crc32cExtend(crc, chunk.data(), want);
    // Parsing goes on only while the body parses; the checksum decides.
    if (restored.ok()) restored = machine.RestoreChunk(std::string_view(chunk.data(), want));
    offset += want;
  }
  if (base::MaskCrc(crc) != header.body_crc) {
    machine.Clear();
    return Damaged(sequence, "body checksum mismatch");
  }
  if (restored.ok()) restored = machine.FinishRestore();
  if (!restored.ok()) {
    machine.Clear();
    return Damaged(sequence, absl::StrCat("body refused by the state machine: ",
                                          restored.message()));
  }
  return absl::OkStatus();
}

}  // namespace faultline::journal
