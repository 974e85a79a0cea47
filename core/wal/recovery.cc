// core/wal/recovery.cc — Open's recovery: list the segments, scan each one,
// cut a torn tail, finish (FORMAT.md, "Recovery", has the rules; wal.h the
// contract).
#include <algorithm>
#include <utility>

#include "core/base/absl_string_view.h"
#include "core/base/check.h"
#include "core/base/status_macros.h"
#include "core/io/errors.h"
#include "core/wal/internal/wal_core.h"
#include "spdlog/spdlog.h"

namespace faultline::wal::internal {

absl::StatusOr<bool> WalCore::LaterSegmentHoldsRecords(const std::vector<uint64_t>& firsts,
                                                       size_t from_index) {
  // Bounded by the number of segments; runs only when a bad frame was found.
  for (size_t j = from_index; j < firsts.size(); ++j) {
    const std::string path = io::JoinPath(dir_, format::SegmentName(firsts[j]));
    absl::StatusOr<std::unique_ptr<io::File>> file = fs_.Open(path, io::OpenMode::kReadWrite);
    if (!file.ok()) return Annotate(file.status(), absl::StrCat("open ", path));
    absl::StatusOr<uint64_t> size = (*file)->Size();
    if (!size.ok()) return Annotate(size.status(), absl::StrCat("size of ", path));
    if (*size > HeaderRegionBytes()) return true;
    if (*size <= format::kSegmentHeaderBytes) continue;
    // Within the header region as this writer sizes it: the same test as
    // ScanSegment's (a log written with smaller sectors holds records there).
    // At most kMaxSectorBytes to read.
    std::string bytes;
    absl::Status status = ReadWhole(**file, *size, &bytes);
    if (!status.ok()) return Annotate(status, absl::StrCat("read ", path));
    if (!HoldsNoRecord(bytes)) return true;
  }
  return false;
}

bool WalCore::HoldsNoRecord(std::string_view bytes) const {
  // With sector alignment a writer's segment starts with its header padded
  // to a sector; no record lies inside that region. A bad header cannot be
  // checked further; a good one is trusted only as far as no record frame
  // verifies in the region (a log written without alignment, or with
  // smaller sectors).
  if (bytes.size() <= format::kSegmentHeaderBytes) return true;
  if (bytes.size() > HeaderRegionBytes()) return false;
  const format::DecodedHeader header = format::DecodeSegmentHeader(bytes);
  return header.problem != format::HeaderProblem::kNone ||
         !HoldsRecordFrame(bytes, header.header.salt);
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
    // Record `expected` itself further on proves it too: the bad bytes lie
    // before its frame, so they were written before it (frames of one batch
    // are contiguous, and the scan verified every frame before them): a
    // padding frame or a header region, synced before record `expected`'s
    // batch was written, damaged after the fact. Cutting there would take
    // that batch, maybe acknowledged, along.
    const bool covers = header.durable_watermark >= expected || header.sequence == expected;
    if (!covers || header.sequence < expected) continue;
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

bool WalCore::HoldsRecordFrame(std::string_view bytes, uint32_t salt) const {
  // Bounded by the header region's size (at most kMaxSectorBytes offsets).
  for (uint64_t offset = format::kSegmentHeaderBytes;
       offset + format::kFrameHeaderBytes <= bytes.size(); ++offset) {
    const format::DecodedFrame frame = format::DecodeFrame(bytes.substr(offset), salt);
    if (frame.problem == format::FrameProblem::kNone &&
        frame.header.sequence != format::kPaddingSequence) {
      return true;
    }
  }
  return false;
}

bool WalCore::IntactHeaderRegion(std::string_view bytes, uint32_t salt) const {
  if (bytes.size() != HeaderRegionBytes()) return false;
  if (bytes.size() == format::kSegmentHeaderBytes) return true;
  const format::DecodedFrame padding =
      format::DecodeFrame(bytes.substr(format::kSegmentHeaderBytes), salt);
  return padding.problem == format::FrameProblem::kNone &&
         padding.header.sequence == format::kPaddingSequence &&
         format::kSegmentHeaderBytes + format::FrameBytes(padding.payload.size()) == bytes.size();
}

absl::Status WalCore::Recover() {
  absl::StatusOr<std::vector<uint64_t>> firsts = ListSegments();
  if (!firsts.ok()) return firsts.status();
  Scan scan;
  // Bounded by the number of segments (ListSegments bounds it).
  for (size_t i = 0; i < firsts->size(); ++i) {
    FAULTLINE_RETURN_IF_ERROR(ScanSegment(*firsts, i, &scan));
  }
  std::string().swap(scan.bytes);
  FAULTLINE_RETURN_IF_ERROR(RepairTornTails(scan));
  FAULTLINE_RETURN_IF_ERROR(RemoveLeftovers(scan));
  return FinishRecovery(&scan);
}

absl::Status WalCore::RepairTornTails(const Scan& scan) {
  // Bounded by the number of segments (one cut at most each).
  for (const Scan::Cut& cut : scan.cuts) {
    absl::StatusOr<std::unique_ptr<io::File>> file = fs_.Open(cut.path, io::OpenMode::kReadWrite);
    if (!file.ok()) return Annotate(file.status(), absl::StrCat("open ", cut.path));
    absl::Status status = (*file)->Truncate(cut.offset_bytes);
    if (!status.ok()) return Annotate(status, absl::StrCat("truncate ", cut.path));
    status = (*file)->Sync();
    ++stats_.file_syncs;
    if (!status.ok()) return Annotate(status, absl::StrCat("fdatasync ", cut.path));
    recovery_.truncated_bytes += cut.torn_bytes;
  }
  return absl::OkStatus();
}

absl::Status WalCore::RemoveLeftovers(const Scan& scan) {
  // Bounded by the number of segments.
  for (const std::string& path : scan.leftovers) {
    absl::Status status = fs_.Remove(path);
    if (!status.ok()) return Annotate(status, absl::StrCat("remove ", path));
    status = fs_.SyncDir(dir_);
    ++stats_.dir_syncs;
    if (!status.ok()) return Annotate(status, absl::StrCat("sync dir ", dir_));
    ++recovery_.removed_empty_segments;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint64_t>> WalCore::ListSegments() {
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
  return firsts;
}

absl::Status WalCore::ScanSegment(const std::vector<uint64_t>& firsts, size_t index, Scan* scan) {
  const uint64_t first = firsts[index];
  const std::string path = io::JoinPath(dir_, format::SegmentName(first));
  absl::StatusOr<std::unique_ptr<io::File>> file = fs_.Open(path, io::OpenMode::kReadWrite);
  if (!file.ok()) return Annotate(file.status(), absl::StrCat("open ", path));
  absl::StatusOr<uint64_t> size = (*file)->Size();
  if (!size.ok()) return Annotate(size.status(), absl::StrCat("size of ", path));
  if (*size > format::kMaxSegmentFileBytes) {
    return absl::FailedPreconditionError(
        absl::StrCat("wal segment ", path, " is ", *size, " bytes, above the limit"));
  }
  std::string& bytes = scan->bytes;
  // Sectors that fail every read (a torn sector that failed its ECC) read as
  // zeros here; scan->unreadable says where.
  absl::Status status = ReadReadable(**file, *size, &bytes, &scan->unreadable);
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
  const bool header_ok = header.problem == format::HeaderProblem::kNone;
  const bool holds_no_record = HoldsNoRecord(bytes);
  // An empty segment is kept only whole: its header region intact, so the
  // first batch written into it never shares a sector with the header. A
  // cut one is a creation that a crash interrupted.
  const bool leftover =
      holds_no_record && (!header_ok || (!segments_.empty() && first < scan->expected) ||
                          !IntactHeaderRegion(bytes, header.header.salt));
  if (leftover) {
    spdlog::warn("wal {}: removing segment {} that holds no record ({})", dir_, path,
                 format::HeaderProblemName(header.problem));
    (*file).reset();
    scan->leftovers.push_back(path);  // removed once the whole log passed
    if (!scan->removed_first.has_value()) scan->removed_first = first;
    return absl::OkStatus();
  }
  if (scan->UnreadableIn(0, format::kSegmentHeaderBytes)) {
    return DataLossAt(path, 0, "unreadable sector in the segment header");
  }
  if (header.problem != format::HeaderProblem::kNone) {
    return DataLossAt(path, 0, format::HeaderProblemName(header.problem));
  }
  if (header.header.first_sequence != first) {
    return DataLossAt(path, 0, absl::StrCat("header says first sequence ",
                                            header.header.first_sequence,
                                            ", the file name says ", first));
  }
  if (!segments_.empty() && first != scan->expected) {
    return DataLossAt(path, 0, absl::StrCat("segment starts at sequence ", first,
                                            " but the previous segment ends before ",
                                            scan->expected, " (a segment is missing)"));
  }
  scan->expected = first;

  status = ScanFrames(firsts, index, path, header.header.salt, scan);
  if (!status.ok()) return status;
  scan->last_file = *std::move(file);
  scan->last_bytes = bytes.size();
  segments_.push_back(Segment{first, path, header.header.salt});
  return absl::OkStatus();
}

absl::Status WalCore::ScanFrames(const std::vector<uint64_t>& firsts, size_t index,
                                 const std::string& path, uint32_t salt, Scan* scan) {
  const std::string& bytes = scan->bytes;
  uint64_t offset = format::kSegmentHeaderBytes;
  // Bounded: each iteration consumes a whole frame (>= kFrameHeaderBytes
  // + 1 bytes) or leaves the loop.
  while (offset < bytes.size()) {
    const format::DecodedFrame frame =
        format::DecodeFrame(std::string_view(bytes).substr(offset), salt);
    if (frame.problem != format::FrameProblem::kNone) {
      const bool unreadable = scan->UnreadableIn(
          offset, offset + format::FrameBytes(frame.header.payload_bytes));
      return CutTornTail(firsts, index, path, salt,
                         unreadable ? "unreadable sector" : format::FrameProblemName(frame.problem),
                         offset, scan);
    }
    const uint64_t next_offset = offset + format::FrameBytes(frame.payload.size());
    FAULTLINE_CHECK(next_offset > offset && next_offset <= bytes.size());
    const bool padding = frame.header.sequence == format::kPaddingSequence;
    // Part of the frame could not be read: it is not there (a frame of zeros
    // verifies only by a 2^-32 chance, and is not trusted either) — unless
    // only the payload of a padding frame is unreadable: its header was
    // read and its checksum verifies over the zeros the writer wrote, and no
    // record lies there, so nothing is missing (its readers skip it unread).
    if (scan->UnreadableIn(offset, padding ? offset + format::kFrameHeaderBytes : next_offset)) {
      return CutTornTail(firsts, index, path, salt, "unreadable sector", offset, scan);
    }
    if (padding && next_offset >= bytes.size() &&
        scan->UnreadableIn(offset + format::kFrameHeaderBytes, next_offset)) {
      // The log's very last frame is padding whose payload cannot be read:
      // in the newest segment nothing after it proves it was ever whole, so
      // it is a torn tail like any other (a later recovery must not meet a
      // frame that fails to verify behind new records).
      absl::StatusOr<bool> later_records = LaterSegmentHoldsRecords(firsts, index + 1);
      if (!later_records.ok()) return later_records.status();
      if (!*later_records) {
        return CutTornTail(firsts, index, path, salt, "unreadable sector", offset, scan);
      }
    }
    if (padding) {
      offset = next_offset;  // sector alignment: no record (FORMAT.md)
      continue;
    }
    if (frame.header.sequence != scan->expected) {
      return DataLossAt(path, offset,
                        absl::StrCat("record carries sequence ", frame.header.sequence,
                                     " where ", scan->expected, " was expected"));
    }
    if (frame.header.sequence == UINT64_MAX) {
      // Append stops one short of it, so no Wal wrote this frame; counting
      // it would wrap the log's next sequence to 0.
      return DataLossAt(path, offset, "record carries sequence 2^64 - 1, which no wal hands out");
    }
    ++scan->expected;
    ++recovery_.records;
    offset = next_offset;
  }
  return absl::OkStatus();
}

absl::Status WalCore::CutTornTail(const std::vector<uint64_t>& firsts, size_t index,
                                  const std::string& path, uint32_t salt, std::string_view problem,
                                  uint64_t offset, Scan* scan) {
  std::string& bytes = scan->bytes;
  // Older segments were wholly synced before the next one was created;
  // only the newest one that holds records can end in a torn tail.
  absl::StatusOr<bool> later_records = LaterSegmentHoldsRecords(firsts, index + 1);
  if (!later_records.ok()) return later_records.status();
  if (*later_records) return DataLossAt(path, offset, problem);
  uint64_t later_offset = 0;
  format::FrameHeader later;
  if (LaterFrameProvesLoss(bytes, offset + 1, scan->expected, salt, &later_offset, &later)) {
    return DataLossAt(path, offset,
                      absl::StrCat(AsAbsl(problem), " (record ",
                                   scan->expected, "), yet the valid record ", later.sequence,
                                   " at offset ", later_offset,
                                   " was written after records up to ",
                                   later.durable_watermark, " were durable"));
  }
  // A torn tail: cut it off, durably, before anything can be appended
  // behind it (stale frames past new records would confuse a later
  // recovery).
  // Cut once the whole log passed its checks (RepairTornTails): a refused
  // Open changes nothing.
  spdlog::warn("wal {}: truncating torn tail of {} at offset {} ({} bytes)", dir_, path, offset,
               bytes.size() - offset);
  scan->cuts.push_back(Scan::Cut{path, offset, bytes.size() - offset});
  bytes.resize(offset);
  // The truncation freed the unreadable sectors past the cut.
  while (!scan->unreadable.empty() && scan->unreadable.back() >= offset) {
    scan->unreadable.pop_back();
  }
  return absl::OkStatus();
}

absl::Status WalCore::FinishRecovery(Scan* scan) {
  if (segments_.empty()) {
    const uint64_t first = scan->removed_first.value_or(options_.initial_sequence);
    const uint32_t salt = NewSegmentSalt(first);
    FAULTLINE_RETURN_IF_ERROR(InitializeSegment(first, salt, &scan->last_file));
    segments_.push_back(Segment{first, io::JoinPath(dir_, format::SegmentName(first)), salt});
    scan->last_bytes = HeaderRegionBytes();
    scan->expected = first;
    recovery_.created_segment = true;
  } else {
    // Whatever recovery read may still be only in the page cache (the crash
    // was the process's, not the machine's): make the recovered state
    // durable before any append can be acknowledged on top of it. The size
    // is set again first: a truncation made by an earlier recovery or by a
    // fail-stop cut-back whose sync failed is visible in the cache but may
    // not be durable, and stale bytes past the end would surface behind the
    // records appended now.
    const std::string& path = segments_.back().path;
    absl::Status status = scan->last_file->Truncate(scan->last_bytes);
    if (!status.ok()) return Annotate(status, absl::StrCat("truncate ", path));
    status = scan->last_file->Sync();
    ++stats_.file_syncs;
    if (!status.ok()) return Annotate(status, absl::StrCat("sync ", path));
    // The same reasoning holds for the directory: a segment whose header
    // sync completed but whose creation's SyncDir never did (the process
    // died in between) reads back fine from the cache, yet a power loss
    // would drop its name and every record acknowledged in it from now on.
    status = fs_.SyncDir(dir_);
    ++stats_.dir_syncs;
    if (!status.ok()) return Annotate(status, absl::StrCat("sync dir ", dir_));
  }
  recovery_.segments = static_cast<uint32_t>(segments_.size());
  active_file_ = std::move(scan->last_file);
  active_bytes_ = active_durable_bytes_ = scan->last_bytes;
  FAULTLINE_CHECK(scan->expected >= segments_.back().first_sequence);
  active_records_ = scan->expected - segments_.back().first_sequence;
  next_sequence_ = scan->expected;
  durable_sequence_ = scan->expected - 1;
  flush_through_ = durable_sequence_;
  // Everything recovery kept is durable now, and nothing else was handed out.
  FAULTLINE_CHECK(next_sequence_ == durable_sequence_ + 1);
  FAULTLINE_CHECK(active_file_ != nullptr && active_bytes_ >= format::kSegmentHeaderBytes);
  return absl::OkStatus();
}

}  // namespace faultline::wal::internal
