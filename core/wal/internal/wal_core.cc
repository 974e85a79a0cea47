// core/wal/internal/wal_core.cc — what several parts of the Wal share:
// status helpers, whole and exact reads, and the creation of a segment
// (header written and synced, directory synced), used by recovery for a new
// log and by the flusher for a rotation.
#include "core/wal/internal/wal_core.h"

#include <algorithm>
#include <utility>

#include "core/base/absl_string_view.h"
#include "core/base/crc32c.h"
#include "core/base/status_macros.h"
#include "core/io/errors.h"
#include "spdlog/spdlog.h"

namespace faultline::wal::internal {
namespace {

// Recovery reads a segment in chunks of this size.
constexpr size_t kReadChunkBytes = 1u << 20;
// After a read error, recovery reads sector by sector, each this many bytes
// (the smallest logical sector), tried this many times: a transient error
// is not taken for a lost sector.
constexpr int kReadAttempts = 3;

}  // namespace

// Prefixes `context` to a status from the file system, keeping its code (so
// io::IsIoError and friends still work on the result).
absl::Status Annotate(const absl::Status& status, std::string_view context) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat(AsAbsl(context), ": ", status.message()));
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

absl::Status DataLossAt(std::string_view path, uint64_t offset_bytes, std::string_view what) {
  return absl::DataLossError(
      absl::StrCat("wal segment ", AsAbsl(path), " offset ", offset_bytes, ": ", AsAbsl(what)));
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

absl::Status ReadReadable(io::File& file, uint64_t size_bytes, std::string* out,
                          std::vector<uint64_t>* unreadable) {
  unreadable->clear();
  absl::Status status = ReadWhole(file, size_bytes, out);
  if (status.ok() || !io::IsIoError(status)) return status;
  // Sector by sector: bounded by size_bytes / kUnreadablePieceBytes pieces,
  // each tried kReadAttempts times.
  out->assign(size_bytes, '\0');
  for (uint64_t at = 0; at < size_bytes; at += kUnreadablePieceBytes) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kUnreadablePieceBytes, size_bytes - at));
    absl::StatusOr<size_t> got = absl::InternalError("not read");
    for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
      got = ReadFull(file, at, absl::Span<char>(out->data() + at, want));
      if (got.ok() || !io::IsIoError(got.status())) break;
    }
    if (!got.ok() && !io::IsIoError(got.status())) return got.status();
    if (!got.ok()) {
      std::fill(out->begin() + static_cast<std::ptrdiff_t>(at),
                out->begin() + static_cast<std::ptrdiff_t>(at + want), '\0');
      unreadable->push_back(at);
      continue;
    }
    if (*got < want) {  // shrank under us: keep what is there
      out->resize(at + *got);
      break;
    }
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

uint32_t WalCore::NewSegmentSalt(uint64_t first_sequence) {
  const uint64_t now_ns = static_cast<uint64_t>(executor_.NowNs());
  const uint64_t seed = options_.salt_seed + 0xd1b54a32d192ed03ull * now_ns +
                        (uint64_t{base::Crc32c(dir_.data(), dir_.size())} << 32);
  return format::SegmentSalt(seed, first_sequence);
}

absl::Status WalCore::InitializeSegment(uint64_t first_sequence, uint32_t salt,
                                        std::unique_ptr<io::File>* file) {
  const std::string path = io::JoinPath(dir_, format::SegmentName(first_sequence));
  absl::StatusOr<std::unique_ptr<io::File>> opened = fs_.Open(path, io::OpenMode::kCreateTruncate);
  if (!opened.ok()) return Annotate(opened.status(), absl::StrCat("create ", path));
  FAULTLINE_RETURN_IF_ERROR(WriteSegmentHeader(**opened, path, first_sequence, salt));
  *file = *std::move(opened);
  return absl::OkStatus();
}

absl::Status WalCore::WriteSegmentHeader(io::File& file, const std::string& path,
                                         uint64_t first_sequence, uint32_t salt) {
  std::string header = format::EncodeSegmentHeader(first_sequence, salt);
  // Padded to a sector boundary, so the first batch never rewrites the
  // header's sector (FORMAT.md, sector alignment).
  const uint64_t padding = HeaderRegionBytes() - header.size();
  if (padding != 0) format::AppendPadding(&header, padding, durable_sequence_, salt);
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

}  // namespace faultline::wal::internal
