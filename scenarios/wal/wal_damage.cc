// scenarios/wal/wal_damage.cc — damage to the WAL's durable segments after
// the final recovery was checked (WalSwarm::damage), and the misdirected
// writes the disk may have made meanwhile.
//
// Each damage is one the format can tell from a crash (FORMAT.md): a
// record of the newest segment that a later batch vouches for (its
// durable watermark covers it), an unreadable sector anywhere, and a lost
// or cut-short segment that a segment holding records follows (a lost
// first segment looks like a release; a lost or cut newest one like a
// crash before its records were synced: neither is drawn). The checker is
// told the first record put at risk and where recovery will meet the damage
// (NoteCorruption): the reopen must then report DataLoss naming that file
// and offset, or return every record, never a shorter log. Padding frames
// (sequence 0, FORMAT.md) hold no record but are frames: damage in one is
// met at its offset.
#include <algorithm>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/wal/format.h"
#include "scenarios/wal/wal_world.h"

namespace faultline::scenarios::wal_internal {

std::vector<WalWorld::DurableSegment> WalWorld::DurableSegments() {
  const sim::disk::DiskImage image = disk_.DurableImage(node_.id());
  std::vector<DurableSegment> segments;
  const std::string prefix = absl::StrCat(kWalDir, "/");
  for (const auto& [path, bytes] : image.files) {  // std::map: in name order, which is log order
    if (path.rfind(prefix, 0) != 0) continue;
    std::optional<uint64_t> first = wal::format::ParseSegmentName(path.substr(prefix.size()));
    if (first.has_value()) segments.push_back(DurableSegment{path, *first, bytes});
  }
  return segments;
}

bool WalWorld::DamageDurable() {
  const std::vector<DurableSegment> segments = DurableSegments();
  switch (swarm_.damage) {
    case DurableDamage::kNone: return false;
    case DurableDamage::kFlipNewest: return FlipNewestSegment(segments);
    case DurableDamage::kLatentSector: return PlantLatentSector(segments);
    case DurableDamage::kLoseSegment: return LoseOrTruncateSegment(segments, true);
    case DurableDamage::kTruncateSegment: return LoseOrTruncateSegment(segments, false);
  }
  return false;
}

std::vector<WalWorld::DurableFrame> WalWorld::Frames(const DurableSegment& segment) {
  std::vector<DurableFrame> frames;
  const wal::format::DecodedHeader header = wal::format::DecodeSegmentHeader(segment.bytes);
  if (header.problem != wal::format::HeaderProblem::kNone) return frames;
  // Bounded by the segment's size: each frame is at least a header long.
  for (uint64_t offset = wal::format::kSegmentHeaderBytes; offset < segment.bytes.size();) {
    const wal::format::DecodedFrame frame = wal::format::DecodeFrame(
        std::string_view(segment.bytes).substr(offset), header.header.salt);
    if (frame.problem != wal::format::FrameProblem::kNone) break;
    const uint64_t size_bytes = wal::format::FrameBytes(frame.payload.size());
    frames.push_back(DurableFrame{offset, size_bytes, frame.header.sequence,
                                  frame.header.durable_watermark});
    offset += size_bytes;
  }
  return frames;
}

uint64_t WalWorld::RecordAtOrAfter(const DurableSegment& segment,
                                   const std::vector<DurableFrame>& frames, uint64_t offset) {
  uint64_t next = segment.first_sequence;
  for (const DurableFrame& frame : frames) {
    if (frame.sequence == wal::format::kPaddingSequence) continue;
    if (frame.offset >= offset) return frame.sequence;
    next = frame.sequence + 1;
  }
  return std::max<uint64_t>(next, 1);
}

DeliberateDamage WalWorld::DamageAt(const DurableSegment& segment, uint64_t offset_bytes,
                                    uint64_t sequence) const {
  // Errors name the segment by its path; its name alone is what must appear.
  const std::string name = segment.path.substr(std::string_view(kWalDir).size() + 1);
  return DeliberateDamage{.sequence = std::max<uint64_t>(sequence, 1), .file = name,
                          .offset_bytes = offset_bytes};
}

bool WalWorld::FlipNewestSegment(const std::vector<DurableSegment>& segments) {
  // The newest segment that holds a record.
  const DurableSegment* newest = nullptr;
  for (const DurableSegment& segment : segments) {
    if (segment.bytes.size() > wal::format::kSegmentHeaderBytes) newest = &segment;
  }
  if (newest == nullptr) return false;
  const std::vector<DurableFrame> frames = Frames(*newest);
  // Records a later frame vouches for: its watermark says they were durable.
  // A padding frame holds no record: damage there puts none at risk.
  std::vector<size_t> vouched;
  for (size_t i = 0; i < frames.size(); ++i) {
    if (frames[i].sequence == wal::format::kPaddingSequence) continue;
    for (size_t j = i + 1; j < frames.size(); ++j) {
      if (frames[j].sequence >= frames[i].sequence && frames[j].watermark >= frames[i].sequence) {
        vouched.push_back(i);
        break;
      }
    }
  }
  if (vouched.empty()) return false;
  sim::Prng& crash = world_.prng(sim::Stream::kCrash);
  const DurableFrame& victim = frames[vouched[crash.Below(vouched.size())]];
  const uint64_t bit = victim.offset * 8 + crash.Below(victim.size_bytes * 8);
  FAULTLINE_CHECK(disk_.FlipDurableBit(node_.id(), newest->path, bit).ok());
  world_.coverage().Count("damage_flip_newest_segment");
  checker_.NoteCorruption(DamageAt(*newest, victim.offset, victim.sequence));
  return true;
}

std::optional<DeliberateDamage> WalWorld::UnreadableSectorSite(
    const std::vector<DurableSegment>& segments, size_t index, uint64_t begin_bytes,
    uint64_t end_bytes) {
  const DurableSegment& segment = segments[index];
  const std::vector<DurableFrame> frames = Frames(segment);
  bool later_records = false;
  for (size_t i = index + 1; i < segments.size(); ++i) {
    later_records |= segments[i].bytes.size() > HeaderRegionBytes(segments[i]);
  }
  if (begin_bytes < wal::format::kSegmentHeaderBytes) {
    // The header: DataLoss whenever the segment holds records past its
    // header region (else recovery drops it as an interrupted creation).
    if (segment.bytes.size() <= HeaderRegionBytes(segment)) return std::nullopt;
    return DamageAt(segment, begin_bytes, RecordAtOrAfter(segment, frames, 0));
  }
  // The first frame reaching into the sector reads as torn there.
  for (const DurableFrame& frame : frames) {
    if (frame.offset + frame.size_bytes <= begin_bytes) continue;
    const uint64_t expected = RecordAtOrAfter(segment, frames, frame.offset);
    // In the newest segment holding records the damage must be vouched for
    // by a later frame the sector leaves readable; else it is a torn tail
    // (FORMAT.md, known limits) and recovery rightly cuts it.
    bool vouched = later_records;
    for (const DurableFrame& later : frames) {
      if (later.offset <= frame.offset || later.offset < end_bytes) continue;
      vouched |= later.sequence >= expected && later.watermark >= expected;
    }
    if (!vouched) return std::nullopt;
    return DamageAt(segment, frame.offset, expected);
  }
  return std::nullopt;
}

bool WalWorld::PlantLatentSector(const std::vector<DurableSegment>& segments) {
  // Every sector whose loss recovery can see; one of them, at random.
  const uint64_t unit_bytes = disk_.options().atomic_unit_bytes;
  std::vector<std::pair<size_t, uint64_t>> candidates;  // segment, sector
  std::vector<DeliberateDamage> sites;
  for (size_t i = 0; i < segments.size(); ++i) {
    const uint64_t sectors = (segments[i].bytes.size() + unit_bytes - 1) / unit_bytes;
    for (uint64_t k = 0; k < sectors; ++k) {
      std::optional<DeliberateDamage> site =
          UnreadableSectorSite(segments, i, k * unit_bytes, (k + 1) * unit_bytes);
      if (!site.has_value()) continue;
      candidates.emplace_back(i, k);
      sites.push_back(*std::move(site));
    }
  }
  if (candidates.empty()) return false;
  sim::Prng& crash = world_.prng(sim::Stream::kCrash);
  const size_t pick = crash.Below(candidates.size());
  const DurableSegment& victim = segments[candidates[pick].first];
  FAULTLINE_CHECK(
      disk_.AddLatentSectorError(node_.id(), victim.path, candidates[pick].second).ok());
  world_.coverage().Count("damage_latent_sector");
  unreadable_planted_ = true;  // recovery never passes the read's EIO through
  checker_.NoteCorruption(std::move(sites[pick]));
  return true;
}

uint64_t WalWorld::HeaderRegionBytes(const DurableSegment& segment) {
  // The header and, in a sector-aligned log, the padding frame after it.
  const std::vector<DurableFrame> frames = Frames(segment);
  if (!frames.empty() && frames[0].sequence == wal::format::kPaddingSequence) {
    return frames[0].offset + frames[0].size_bytes;
  }
  return wal::format::kSegmentHeaderBytes;
}

DeliberateDamage WalWorld::TruncationSite(const std::vector<DurableSegment>& segments,
                                          size_t index, uint64_t size_bytes) {
  const DurableSegment& victim = segments[index];
  const std::vector<DurableFrame> frames = Frames(victim);
  // Cut inside a frame: that frame is torn, and later segments hold records.
  for (const DurableFrame& frame : frames) {
    if (frame.offset < size_bytes && size_bytes < frame.offset + frame.size_bytes &&
        size_bytes >= HeaderRegionBytes(victim)) {
      return DamageAt(victim, frame.offset, RecordAtOrAfter(victim, frames, frame.offset));
    }
  }
  // Cut at a frame's start (the segment just ends early), or inside its
  // header region (recovery drops it as an interrupted creation): the next
  // segment no longer starts where the log ends.
  return DamageAt(segments[index + 1], 0, RecordAtOrAfter(victim, frames, size_bytes));
}

bool WalWorld::LoseOrTruncateSegment(const std::vector<DurableSegment>& segments, bool lose) {
  // Candidates: followed by a segment that holds records; not the first one
  // to lose; for the first one, a cut keeps its header region (a first
  // segment without one reads as the leftover of a creation, and a lost
  // first segment as a release).
  std::vector<size_t> candidates;
  bool later_records = false;
  for (size_t i = segments.size(); i-- > 0;) {
    const uint64_t size_bytes = segments[i].bytes.size();
    const bool possible = lose ? i > 0 : size_bytes > (i == 0 ? HeaderRegionBytes(segments[i]) : 0);
    if (later_records && possible) candidates.push_back(i);
    if (size_bytes > HeaderRegionBytes(segments[i])) later_records = true;
  }
  if (candidates.empty()) return false;
  sim::Prng& crash = world_.prng(sim::Stream::kCrash);
  const size_t index = candidates[crash.Below(candidates.size())];
  const DurableSegment& victim = segments[index];
  absl::Status damaged;
  DeliberateDamage damage;
  if (lose) {
    damaged = disk_.LoseDurableFile(node_.id(), victim.path);
    // Recovery meets the gap at the next segment's start.
    damage = DamageAt(segments[index + 1], 0, victim.first_sequence);
  } else {
    const uint64_t keep_at_least = index == 0 ? HeaderRegionBytes(victim) : 0;
    const uint64_t size_bytes =
        static_cast<uint64_t>(crash.Between(static_cast<int64_t>(keep_at_least),
                                            static_cast<int64_t>(victim.bytes.size()) - 1));
    damaged = disk_.TruncateDurableFile(node_.id(), victim.path, size_bytes);
    damage = TruncationSite(segments, index, size_bytes);
  }
  // Refused only while something is pending, which a closed, recovered log
  // never leaves.
  FAULTLINE_CHECK_MSG(damaged.ok(), "durable damage refused: something is pending on the log");
  world_.coverage().Count(lose ? "damage_lost_segment" : "damage_truncated_segment");
  checker_.NoteCorruption(std::move(damage));
  return true;
}

uint64_t WalWorld::LastVouchedSequence() {
  // Recovery looks for vouching frames at every byte offset of a damaged
  // segment; so does this (segments are small in these scenarios, and a
  // run's bytes are bounded).
  uint64_t vouched = 0;
  for (const DurableSegment& segment : DurableSegments()) {
    const wal::format::DecodedHeader header = wal::format::DecodeSegmentHeader(segment.bytes);
    if (header.problem != wal::format::HeaderProblem::kNone) continue;
    const std::string_view bytes(segment.bytes);
    for (size_t offset = wal::format::kSegmentHeaderBytes;
         offset + wal::format::kFrameHeaderBytes < bytes.size(); ++offset) {
      const wal::format::DecodedFrame frame =
          wal::format::DecodeFrame(bytes.substr(offset), header.header.salt);
      if (frame.problem != wal::format::FrameProblem::kNone) continue;
      vouched = std::max(vouched, std::min(frame.header.sequence, frame.header.durable_watermark));
    }
  }
  return vouched;
}

void WalWorld::NoteMisdirectedWrites() {
  if (disk_.stats().count(sim::disk::FaultKind::kMisdirectedWrite) == 0) return;
  // The device may now hold damage where the misdirected bytes landed (a
  // record: DataLoss is the right report)...
  if (!checker_.corruption_noted()) {
    checker_.NoteCorruption(DeliberateDamage{
        .sequence = std::max<uint64_t>(checker_.retained_start(), 1), .place_unknown = true});
  }
  // ...and lack the bytes where they belonged — at any later crash: a
  // misdirected write still in the cache reaches the device with the next
  // sync. When those bytes were the newest acknowledged batch, nothing on
  // the device proves it was durable (FORMAT.md, known limits): the log
  // may end at the last proven record.
  const uint64_t vouched = LastVouchedSequence();
  if (vouched < checker_.last_acked()) {
    world_.coverage().Count("misdirected_unprovable");
    checker_.ExcuseUnprovableLoss(vouched);
  }
}

}  // namespace faultline::scenarios::wal_internal
