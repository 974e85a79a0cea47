// scenarios/wal/wal_readers.cc — the WAL scenarios' readers and checks of
// the log at rest (see wal_world.h): readers that tail the log while
// writers append, releases run and crashes strike; a Close while writers
// append; the independent format check of the final recovery; and the
// deliberate damage of a sealed segment, which the WAL must refuse to
// read past and to open, naming it, without touching the disk.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/io/errors.h"
#include "core/wal/format.h"
#include "scenarios/checkers/wal_format_decoder.h"
#include "scenarios/wal/wal_world.h"

namespace faultline::scenarios::wal_internal {
namespace {

constexpr int kMaxTailRounds = 8;  // new readers after a release overtook one
constexpr int64_t kMaxTailPollNs = 20 * kMicrosecondNs;

}  // namespace

void WalWorld::Tailer(LogApi& log, Epoch& epoch) {
  sim::Prng& workload = world_.prng(sim::Stream::kWorkload);
  // Started after the instance was destroyed, or is being closed.
  if (!epoch_live(epoch.id) || epoch.closed) return;
  const uint64_t first = log.first_sequence();
  const uint64_t durable = log.durable_sequence();
  // The refusals at both ends of the readable range, then a start inside it.
  if (first > 1 && !Verdict(rules_.NewReaderAnswered(first - 1, first, durable,
                                                     log.NewReader(first - 1).status()),
                            "new reader")) {
    return;
  }
  if (durable < UINT64_MAX - 2 &&
      !Verdict(rules_.NewReaderAnswered(durable + 2, first, durable,
                                        log.NewReader(durable + 2).status()),
               "new reader")) {
    return;
  }
  uint64_t from = first + workload.Below(durable - first + 2);
  for (int round = 0; round < kMaxTailRounds && epoch_live(epoch.id); ++round) {
    const bool closed_before = epoch.close_returned;
    absl::StatusOr<std::unique_ptr<LogReaderApi>> reader = log.NewReader(from);
    if (closed_before) {
      Verdict(rules_.AfterClose("NewReader", reader.status()), "reader after close");
      return;
    }
    if (epoch.closed && absl::IsFailedPrecondition(reader.status())) return;  // closing
    if (!Verdict(rules_.NewReaderAnswered(from, log.first_sequence(), log.durable_sequence(),
                                          reader.status()),
                 "new reader") ||
        !reader.ok()) {
      return;
    }
    if (!Tail(log, epoch, **reader, from)) return;
    if (!epoch_live(epoch.id)) return;
    from = log.first_sequence();
  }
}

bool WalWorld::Tail(LogApi& log, Epoch& epoch, LogReaderApi& reader, uint64_t from) {
  sim::Prng& workload = world_.prng(sim::Stream::kWorkload);
  // Bounded: each iteration returns a record (bounded by what the writers
  // append) or sleeps while the writers still run. The reader's own
  // next_sequence() is not trusted: the expected one is counted here.
  uint64_t expected = from;
  for (uint64_t i = 0; i < kMaxRecordsRead && epoch_live(epoch.id); ++i) {
    const bool closed = epoch.close_returned;
    absl::StatusOr<std::optional<wal::Record>> next = reader.Next();
    if (!epoch_live(epoch.id)) return false;
    if (closed) {
      Verdict(rules_.AfterClose("WalReader::Next", next.status()), "reader after close");
      return false;
    }
    if (!next.ok()) {
      const absl::Status& error = next.status();
      // Released under the reader (a Release in flight has removed the
      // file before first_sequence() moves on).
      if (absl::IsNotFound(error) && (expected < log.first_sequence() || releasing_)) {
        return true;
      }
      if ((absl::IsFailedPrecondition(error) && epoch.closed) || io::IsIoError(error)) {
        return false;
      }
      // A misdirected write left the device without bytes the log wrote
      // (the cache was right); once the cache drops those pages (a failed
      // sync may), a reader meets the hole and must say so: DataLoss, the
      // same report a recovery may give then (NoteMisdirectedWrites).
      if (absl::IsDataLoss(error) &&
          disk_.stats().count(sim::disk::FaultKind::kMisdirectedWrite) != 0) {
        world_.coverage().Count("reader_met_misdirected_write");
        return false;
      }
      Verdict(rules_.Violation("reader-error", expected,
                               absl::StrCat("a reader of the live log failed (", error.ToString(),
                                            ") while it holds [", log.first_sequence(), ", ",
                                            log.durable_sequence(), "]")),
              "reader");
      return false;
    }
    if (!next->has_value()) {
      if (running_writers_ == 0 && expected > log.durable_sequence()) return false;
      world_.scheduler().SleepFor(1 + workload.Below(kMaxTailPollNs));
      continue;
    }
    const wal::Record& record = **next;
    if (!Verdict(rules_.ReaderReturned(record.sequence, expected, log.durable_sequence()),
                 "reader") ||
        !Verdict(checker_.CheckRead(record.sequence, record.payload), "reader")) {
      return false;
    }
    ++expected;
  }
  return false;
}

void WalWorld::Closer(LogApi& log, Epoch& epoch) {
  sim::Prng& workload = world_.prng(sim::Stream::kWorkload);
  world_.scheduler().SleepFor(1 + workload.Below(swarm_.nemesis.time_horizon_ns));
  if (!epoch_live(epoch.id) || running_writers_ == 0) return;
  epoch.closed = true;
  absl::Status closed = log.Close();
  if (hooks_.close_status) closed = hooks_.close_status(std::move(closed));
  epoch.close_status = closed;
  if (!epoch_live(epoch.id)) return;
  epoch.close_returned = true;
  world_.coverage().Count("wal_close_while_appending");
  // Close flushed what was queued; afterwards every call fails.
  if (!Verdict(rules_.Flushed("Close", closed, log.last_sequence(), log.durable_sequence()),
               "close") ||
      !Verdict(rules_.AfterClose("Flush", log.Flush()), "flush after close") ||
      !Verdict(rules_.AfterClose("Release", log.Release(log.first_sequence())),
               "release after close")) {
    return;
  }
  Verdict(rules_.AfterClose("NewReader", log.NewReader(log.first_sequence()).status()),
          "reader after close");
}

std::map<std::string, std::string> WalWorld::WalFiles(const sim::disk::DiskImage& image) const {
  std::map<std::string, std::string> files;
  const std::string prefix = absl::StrCat(kWalDir, "/");
  for (const auto& [path, bytes] : image.files) {  // std::map: sorted by path
    if (path.rfind(prefix, 0) == 0) files.emplace(path.substr(prefix.size()), bytes);
  }
  return files;
}

bool WalWorld::CheckFormat() {
  const absl::StatusOr<DecodedLog> decoded =
      DecodeWalDirectory(WalFiles(disk_.DurableImage(node_.id())));
  std::string problem;
  if (!decoded.ok()) {
    problem = absl::StrCat("the independent decoder refuses the recovered log: ",
                           decoded.status().message());
  } else if (decoded->records.size() != recovered_.size()) {
    problem = absl::StrCat("the independent decoder finds ", decoded->records.size(),
                           " records where recovery returned ", recovered_.size());
  } else {
    for (size_t i = 0; i < recovered_.size() && problem.empty(); ++i) {
      const DecodedRecord& got = decoded->records[i];
      if (got.sequence != recovered_[i].sequence || got.payload != recovered_[i].payload) {
        problem = absl::StrCat("the independent decoder finds record ", got.sequence, " (",
                               got.payload.size(), " bytes) at ", got.segment, " offset ",
                               got.offset_bytes, " where recovery returned record ",
                               recovered_[i].sequence, " (", recovered_[i].payload.size(),
                               " bytes)");
      }
    }
  }
  // A verdict either way: the trace shows the check ran.
  return Verdict(problem.empty() ? absl::OkStatus()
                                 : rules_.Violation("format", checker_.last_acked(), problem),
                 "format");
}

bool WalWorld::ReadUpToDamage(LogApi& log, uint64_t damaged_sequence) {
  absl::StatusOr<std::unique_ptr<LogReaderApi>> reader = log.NewReader(log.first_sequence());
  if (!Verdict(rules_.NewReaderAnswered(log.first_sequence(), log.first_sequence(),
                                        log.durable_sequence(), reader.status()),
               "damaged read") ||
      !reader.ok()) {
    return false;
  }
  // Bounded by the records before the damage (and a hard cap).
  uint64_t expected = log.first_sequence();
  for (uint64_t i = 0; i < kMaxRecordsRead; ++i, ++expected) {
    absl::StatusOr<std::optional<wal::Record>> next = (*reader)->Next();
    if (!next.ok()) {
      if (expected != damaged_sequence) {
        return Verdict(rules_.Violation("damage-prefix", expected,
                                        absl::StrCat("a reader stopped here (",
                                                     next.status().ToString(),
                                                     ") before the damage at record ",
                                                     damaged_sequence)),
                       "damaged read");
      }
      return Verdict(checker_.CheckRecoveryError(next.status()), "damaged read");
    }
    if (!next->has_value() || (**next).sequence >= damaged_sequence) {
      return Verdict(rules_.Violation("damage-unnoticed", damaged_sequence,
                                      "a reader read past the damaged record without an error"),
                     "damaged read");
    }
    if (!Verdict(rules_.ReaderReturned((**next).sequence, expected, log.durable_sequence()),
                 "damaged read") ||
        !Verdict(checker_.CheckRead((**next).sequence, (**next).payload), "damaged read")) {
      return false;
    }
  }
  return false;
}

void WalWorld::DamageAndCheck(std::unique_ptr<LogApi>& log) {
  // A bit flip in a sealed segment — one that a segment holding records
  // follows (FORMAT.md: it was wholly synced before that one was created),
  // so every byte of it is a synced header, record or padding. (Before a
  // newest segment that holds only its header, damage to the last records
  // looks like a torn tail, and recovery meets it as a gap.) Flipped in the
  // durable bytes and in the clean cache pages that show them.
  const std::map<std::string, std::string> files = WalFiles(disk_.DurableImage(node_.id()));
  // Where the damage begins, as the independent decoder sees the log: the
  // frame holding the byte, or the header.
  const absl::StatusOr<DecodedLog> decoded = DecodeWalDirectory(files);
  FAULTLINE_CHECK(decoded.ok());  // CheckFormat passed
  std::vector<std::string> segments;
  for (const auto& [name, bytes] : files) {
    const bool later_records = !decoded->records.empty() && decoded->records.back().segment > name;
    if (!bytes.empty() && later_records) segments.push_back(name);
  }
  if (segments.empty()) return;
  sim::Prng& crash = world_.prng(sim::Stream::kCrash);
  const std::string& victim = segments[crash.Below(segments.size())];
  const uint64_t bit = crash.Below(files.at(victim).size() * 8);
  const uint64_t byte = bit / 8;
  DeliberateDamage damage{.file = victim};
  damage.sequence = *wal::format::ParseSegmentName(victim);
  bool holds_records = false;
  for (const DecodedRecord& record : decoded->records) {
    if (record.segment != victim) continue;
    if (!holds_records) damage.sequence = record.sequence;
    holds_records = true;
    if (byte >= record.offset_bytes && byte < record.offset_bytes + record.frame_bytes) {
      damage.sequence = record.sequence;
      damage.offset_bytes = record.offset_bytes;
    }
  }
  // A padding frame (sector alignment) holds no record, but it is a frame:
  // the damage is met at its start, before the first record after it.
  for (const DecodedPadding& padding : decoded->padding) {
    if (padding.segment != victim || byte < padding.offset_bytes ||
        byte >= padding.offset_bytes + padding.frame_bytes) {
      continue;
    }
    damage.offset_bytes = padding.offset_bytes;
    damage.sequence = decoded->records.empty() ? damage.sequence
                                               : decoded->records.back().sequence + 1;
    // The damage is met before the first record after it. A reader skips a
    // padding frame by its length, unverified (its checksum covers a
    // payload the reader does not read, FORMAT.md), so damage there is met
    // by recovery's scan, not by a reader.
    for (const DecodedRecord& record : decoded->records) {
      if (record.segment > victim ||
          (record.segment == victim && record.offset_bytes > padding.offset_bytes)) {
        damage.sequence = record.sequence;
        break;
      }
    }
    holds_records = false;
  }
  damage.in_version_field = byte >= 8 && byte < 12;
  const absl::Status flipped =
      disk_.FlipDurableBit(node_.id(), absl::StrCat(kWalDir, "/", victim), bit);
  FAULTLINE_CHECK(flipped.ok());
  world_.coverage().Count("corrupt_sealed_segment");
  const uint64_t damaged_sequence = damage.sequence;
  checker_.NoteCorruption(std::move(damage));
  // The open log's reader returns every record before the damage, then
  // refuses to go on, naming it (a header-only segment, padding after the
  // log's last record, or a padding payload holds nothing to refuse).
  if (holds_records && !ReadUpToDamage(*log, damaged_sequence)) return;
  (void)log->Close();
  log.reset();
  log = OpenAndCheck();
}

}  // namespace faultline::scenarios::wal_internal
