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
// told the first record put at risk (NoteCorruption): the reopen must then
// report DataLoss — a read EIO is DataLoss too — or return every record,
// never a shorter log.
#include <algorithm>
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

bool WalWorld::FlipNewestSegment(const std::vector<DurableSegment>& segments) {
  // The newest segment that holds a record.
  const DurableSegment* newest = nullptr;
  for (const DurableSegment& segment : segments) {
    if (segment.bytes.size() > wal::format::kSegmentHeaderBytes) newest = &segment;
  }
  if (newest == nullptr) return false;
  const wal::format::DecodedHeader header = wal::format::DecodeSegmentHeader(newest->bytes);
  if (header.problem != wal::format::HeaderProblem::kNone) return false;
  struct Frame {
    uint64_t offset = 0;
    uint64_t size_bytes = 0;
    uint64_t sequence = 0;
    uint64_t watermark = 0;
  };
  std::vector<Frame> frames;
  // Bounded by the segment's size: each frame is at least a header long.
  for (uint64_t offset = wal::format::kSegmentHeaderBytes; offset < newest->bytes.size();) {
    const wal::format::DecodedFrame frame = wal::format::DecodeFrame(
        std::string_view(newest->bytes).substr(offset), header.header.salt);
    if (frame.problem != wal::format::FrameProblem::kNone) break;
    const uint64_t size_bytes = wal::format::FrameBytes(frame.payload.size());
    frames.push_back(Frame{offset, size_bytes, frame.header.sequence, frame.header.durable_watermark});
    offset += size_bytes;
  }
  // Records a later frame vouches for: its watermark says they were durable.
  std::vector<size_t> vouched;
  for (size_t i = 0; i < frames.size(); ++i) {
    for (size_t j = i + 1; j < frames.size(); ++j) {
      if (frames[j].watermark >= frames[i].sequence) {
        vouched.push_back(i);
        break;
      }
    }
  }
  if (vouched.empty()) return false;
  sim::Prng& crash = world_.prng(sim::Stream::kCrash);
  const Frame& victim = frames[vouched[crash.Below(vouched.size())]];
  const uint64_t bit = victim.offset * 8 + crash.Below(victim.size_bytes * 8);
  FAULTLINE_CHECK(disk_.FlipDurableBit(node_.id(), newest->path, bit).ok());
  world_.coverage().Count("damage_flip_newest_segment");
  checker_.NoteCorruption(victim.sequence);
  return true;
}

bool WalWorld::PlantLatentSector(const std::vector<DurableSegment>& segments) {
  if (segments.empty()) return false;
  sim::Prng& crash = world_.prng(sim::Stream::kCrash);
  const DurableSegment& victim = segments[crash.Below(segments.size())];
  const uint64_t unit_bytes = disk_.options().atomic_unit_bytes;
  const uint64_t sectors = (victim.bytes.size() + unit_bytes - 1) / unit_bytes;
  if (sectors == 0) return false;
  FAULTLINE_CHECK(disk_.AddLatentSectorError(node_.id(), victim.path, crash.Below(sectors)).ok());
  world_.coverage().Count("damage_latent_sector");
  unreadable_planted_ = true;
  checker_.NoteCorruption(std::max<uint64_t>(victim.first_sequence, 1));
  return true;
}

bool WalWorld::LoseOrTruncateSegment(const std::vector<DurableSegment>& segments, bool lose) {
  // Candidates: followed by a segment that holds records; not the first one
  // to lose; for the first one, a cut keeps its header (a first segment
  // without a valid header reads as the leftover of a creation).
  std::vector<size_t> candidates;
  bool later_records = false;
  for (size_t i = segments.size(); i-- > 0;) {
    const uint64_t size_bytes = segments[i].bytes.size();
    const bool possible = lose ? i > 0
                               : size_bytes > (i == 0 ? wal::format::kSegmentHeaderBytes : 0);
    if (later_records && possible) candidates.push_back(i);
    if (size_bytes > wal::format::kSegmentHeaderBytes) later_records = true;
  }
  if (candidates.empty()) return false;
  sim::Prng& crash = world_.prng(sim::Stream::kCrash);
  const DurableSegment& victim = segments[candidates[crash.Below(candidates.size())]];
  absl::Status damaged;
  if (lose) {
    damaged = disk_.LoseDurableFile(node_.id(), victim.path);
  } else {
    const uint64_t keep_at_least = &victim == &segments[0] ? wal::format::kSegmentHeaderBytes : 0;
    const uint64_t size_bytes =
        static_cast<uint64_t>(crash.Between(static_cast<int64_t>(keep_at_least),
                                            static_cast<int64_t>(victim.bytes.size()) - 1));
    damaged = disk_.TruncateDurableFile(node_.id(), victim.path, size_bytes);
  }
  // Refused only while something is pending, which a closed, recovered log
  // never leaves.
  FAULTLINE_CHECK_MSG(damaged.ok(), "durable damage refused: something is pending on the log");
  world_.coverage().Count(lose ? "damage_lost_segment" : "damage_truncated_segment");
  checker_.NoteCorruption(std::max<uint64_t>(victim.first_sequence, 1));
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
    checker_.NoteCorruption(std::max<uint64_t>(checker_.retained_start(), 1));
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
