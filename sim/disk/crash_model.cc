// sim/disk/crash_model.cc — replay of pending operations (see crash_model.h).
#include "sim/disk/crash_model.h"

#include <algorithm>
#include <cstring>

#include "core/base/check.h"
#include "core/io/file_system.h"

namespace faultline::sim::disk {
namespace {

// A file being replayed: physical bytes (may extend past the logical size
// when data reached the disk but its size update did not) and logical size.
// Invariant: phys.size() >= size_bytes.
struct Replay {
  std::string phys;
  uint64_t size_bytes = 0;
};

void EnsurePhys(Replay& file, uint64_t end_bytes) {
  if (file.phys.size() < end_bytes) file.phys.resize(end_bytes, '\0');
}

void ExtendSize(Replay& file, uint64_t end_bytes) {
  EnsurePhys(file, end_bytes);
  file.size_bytes = std::max(file.size_bytes, end_bytes);
}

// Puts `bytes` where the device writes them for `op`, at `durable_begin`:
// into this file, or — misdirected into another file — into `misplaced`.
void Land(Replay& file, const DataOp& op, uint64_t durable_begin, std::string_view bytes,
          std::vector<MisplacedWrite>& misplaced) {
  if (bytes.empty()) return;
  if (op.landing_inode != 0) {
    misplaced.push_back({op.landing_inode, durable_begin, std::string(bytes)});
    return;
  }
  EnsurePhys(file, durable_begin + bytes.size());
  std::memcpy(file.phys.data() + durable_begin, bytes.data(), bytes.size());
}

void PersistWhole(Replay& file, const DataOp& op, std::string_view bytes,
                  std::vector<MisplacedWrite>& misplaced) {
  Land(file, op, op.durable_offset, bytes, misplaced);
  ExtendSize(file, op.offset + op.length_bytes);
}

void ReplayTruncate(Replay& file, uint64_t new_size_bytes) {
  // Blocks past the old logical end are freed, then the file is zero-extended.
  file.phys.resize(file.size_bytes);
  file.phys.resize(new_size_bytes, '\0');
  file.size_bytes = new_size_bytes;
}

// No powersafe overwrite: a torn write may trash each physical sector it
// touches but does not cover whole, bytes synced before included (the drive
// was rewriting the whole sector, e.g. a 512e read-modify-write). Sectors it
// covers whole gain no outcome the logical tears did not already allow.
void DamagePhysicalSectors(Replay& file, const DataOp& op, const SectorModel& sectors,
                           ChoiceSource& choices, CrashSummary& summary) {
  const uint64_t physical = sectors.physical();
  const uint64_t op_end = op.durable_offset + op.length_bytes;
  const uint64_t first = op.durable_offset / physical;
  const uint64_t last = (op_end - 1) / physical;
  for (uint64_t sector = first; sector <= last; ++sector) {
    const uint64_t begin = sector * physical;
    const uint64_t end = std::min<uint64_t>(begin + physical, file.phys.size());
    const bool covered_whole = op.durable_offset <= begin && op_end >= begin + physical;
    if (covered_whole || end <= begin) continue;
    if (choices.Choose(ChoicePoint::kSectorDamage, 2) == 0) continue;
    choices.FillGarbage(absl::Span<char>(file.phys.data() + begin, end - begin));
    ++summary.damaged_physical_sectors;
    if (sectors.torn_sectors_unreadable && choices.Choose(ChoicePoint::kUnreadableSector, 2) == 1) {
      for (uint64_t at = begin; at < end; at += sectors.logical_bytes) {
        summary.unreadable_scratch.push_back(at / sectors.logical_bytes);
      }
    }
  }
}

// Whether a torn write over [begin, end) of logical `sector` may leave the
// whole sector unreadable. An unreadable sector loses every byte in it; with
// powersafe overwrite the write may damage no byte outside its range, so
// only a sector holding nothing else (but bytes past the file's end before
// the write) may be lost whole.
bool MayLoseWholeSector(const SectorModel& sectors, uint64_t sector, uint64_t begin, uint64_t end,
                        uint64_t size_before) {
  if (!sectors.powersafe_overwrite) return true;
  const uint64_t sector_begin = sector * sectors.logical_bytes;
  const uint64_t sector_end = sector_begin + sectors.logical_bytes;
  const bool head_free = begin == sector_begin || sector_begin >= size_before;
  const bool tail_free = end == sector_end || end >= size_before;
  return head_free && tail_free;
}

// One sector of a torn write: 0 old bytes, 1 new, 2 garbage (ChoicePoint::
// kTornSector). A forced tear keeps its first sector and loses its last (or,
// with `forced_hole`, the other way round); inside one sector it cannot
// tear, so it turns to garbage.
uint32_t TornSectorOutcome(const DataOp& op, uint64_t sector, uint64_t first_sector,
                           uint64_t last_sector, bool forced_hole, ChoiceSource& choices) {
  if (op.tear_on_crash && first_sector == last_sector) return 2;
  if (op.tear_on_crash && sector == first_sector) return forced_hole ? 0 : 1;
  if (op.tear_on_crash && sector == last_sector) return forced_hole ? 1 : 0;
  return choices.Choose(ChoicePoint::kTornSector, 3);
}

// A write that is not persisted whole: per-sector outcomes (appended to
// `sector_outcomes`, recorded in `outcome`), and maybe the size update
// without (all of) the data.
void ReplayPartialWrite(Replay& file, const DataOp& op, std::string_view bytes, bool torn,
                        const SectorModel& sectors, ChoiceSource& choices, CrashSummary& summary,
                        std::vector<MisplacedWrite>& misplaced, OpOutcome& outcome,
                        std::vector<uint8_t>& sector_outcomes) {
  const uint32_t unit_bytes = sectors.logical_bytes;
  const uint64_t logical_end = op.offset + op.length_bytes;
  const uint64_t size_before = file.size_bytes;
  if (logical_end > file.size_bytes) {
    const uint32_t size_choice = choices.Choose(ChoicePoint::kSizeWithoutData, 3);
    outcome.size_without_data = size_choice;
    if (size_choice != 0) {
      const uint64_t old_size_bytes = file.size_bytes;
      ExtendSize(file, logical_end);
      ++summary.sizes_without_data;
      if (size_choice == 2) {
        // Garbage only where this write's range meets the new range.
        const uint64_t begin = std::max(old_size_bytes, op.offset);
        choices.FillGarbage(absl::Span<char>(file.phys.data() + begin, logical_end - begin));
      }
    }
  }
  if (!torn || op.length_bytes == 0) return;
  const uint64_t first_sector = op.durable_offset / unit_bytes;
  const uint64_t last_sector = (op.durable_offset + op.length_bytes - 1) / unit_bytes;
  if (op.landing_inode == 0) EnsurePhys(file, op.durable_offset + op.length_bytes);
  outcome.unit_bytes = unit_bytes;
  outcome.first_sector = first_sector;
  const bool multi_sector = first_sector != last_sector;
  const bool forced_hole = op.tear_on_crash && multi_sector && sectors.forced_tear_may_hole &&
                           choices.Choose(ChoicePoint::kForcedTearShape, 2) == 1;
  bool lost_earlier = false;
  bool hole = false;
  for (uint64_t sector = first_sector; sector <= last_sector; ++sector) {
    const uint64_t begin = std::max(sector * unit_bytes, op.durable_offset);
    const uint64_t end = std::min((sector + 1) * unit_bytes, op.durable_offset + op.length_bytes);
    const uint32_t sector_outcome =
        TornSectorOutcome(op, sector, first_sector, last_sector, forced_hole, choices);
    sector_outcomes.push_back(static_cast<uint8_t>(sector_outcome));
    hole = hole || (lost_earlier && sector_outcome != 0);
    lost_earlier = lost_earlier || sector_outcome == 0;
    if (sector_outcome == 1) {
      Land(file, op, begin, bytes.substr(begin - op.durable_offset, end - begin), misplaced);
    } else if (sector_outcome == 2) {
      std::string garbage(end - begin, '\0');
      choices.FillGarbage(absl::Span<char>(garbage.data(), garbage.size()));
      Land(file, op, begin, garbage, misplaced);
      ++summary.garbage_sectors;
      if (sectors.torn_sectors_unreadable && op.landing_inode == 0 &&
          MayLoseWholeSector(sectors, sector, begin, end, size_before) &&
          choices.Choose(ChoicePoint::kUnreadableSector, 2) == 1) {
        summary.unreadable_scratch.push_back(sector);
      }
    }
  }
  if (hole) ++summary.torn_writes_with_hole;
  // A write misdirected into another file damages that file's sectors, which
  // this replay does not hold: the model keeps its bytes only.
  if (!sectors.powersafe_overwrite && op.landing_inode == 0) {
    DamagePhysicalSectors(file, op, sectors, choices, summary);
  }
}

}  // namespace

void ApplyMisplacedWrites(std::map<uint64_t, std::string>& inodes,
                          const std::vector<MisplacedWrite>& writes) {
  for (const MisplacedWrite& write : writes) {
    auto it = inodes.find(write.inode);
    if (it == inodes.end() || write.offset >= it->second.size()) continue;  // freed, or past EOF
    const size_t length = std::min<size_t>(write.bytes.size(), it->second.size() - write.offset);
    std::memcpy(it->second.data() + write.offset, write.bytes.data(), length);
  }
}

void ApplyAllDataOps(std::string& bytes, const PendingData& pending,
                     std::vector<MisplacedWrite>& misplaced) {
  Replay file{.phys = std::move(bytes), .size_bytes = 0};
  file.size_bytes = file.phys.size();
  for (const DataOp& op : pending.ops) {
    if (op.kind == DataOp::Kind::kTruncate) {
      ReplayTruncate(file, op.offset);
    } else {
      PersistWhole(file, op, pending.BytesOf(op), misplaced);
    }
  }
  file.phys.resize(file.size_bytes);
  bytes = std::move(file.phys);
}

void CollectOrphans(DurableState& state) {
  // std::set orders a parent before its children (a proper prefix sorts
  // first), so one pass decides every directory.
  for (auto it = state.dirs.begin(); it != state.dirs.end();) {
    const std::string_view parent = io::ParentDir(*it);
    const bool keep = parent.empty() || state.dirs.count(std::string(parent)) > 0;
    it = keep ? std::next(it) : state.dirs.erase(it);
  }
  std::set<uint64_t> named;
  for (auto it = state.files.begin(); it != state.files.end();) {
    const std::string_view parent = io::ParentDir(it->first);
    const bool keep = parent.empty() || state.dirs.count(std::string(parent)) > 0;
    if (keep) {
      named.insert(it->second);
      ++it;
    } else {
      state.names.erase(it->second);
      it = state.files.erase(it);
    }
  }
  for (auto it = state.inodes.begin(); it != state.inodes.end();) {
    it = named.count(it->first) > 0 ? std::next(it) : state.inodes.erase(it);
  }
}

void ResolveDataOps(std::string& durable_bytes, const PendingData& pending, uint32_t unit_bytes,
                    ChoiceSource& choices, CrashSummary& summary,
                    std::vector<MisplacedWrite>& misplaced, uint64_t inode) {
  ResolveDataOps(durable_bytes, pending, SectorModel{.logical_bytes = unit_bytes}, choices,
                 summary, misplaced, inode);
}

void ResolveDataOps(std::string& durable_bytes, const PendingData& pending,
                    const SectorModel& sectors, ChoiceSource& choices, CrashSummary& summary,
                    std::vector<MisplacedWrite>& misplaced, uint64_t inode) {
  FAULTLINE_CHECK(sectors.physical() % sectors.logical_bytes == 0);
  Replay file{.phys = std::move(durable_bytes), .size_bytes = 0};
  file.size_bytes = file.phys.size();
  std::vector<uint8_t> sector_outcomes;  // a torn write's, reused op after op
  for (const DataOp& op : pending.ops) {
    OpOutcome outcome{.data_op = &op, .inode = inode};
    if (op.kind == DataOp::Kind::kTruncate) {
      outcome.fate = choices.Choose(ChoicePoint::kTruncate, 2);
      if (outcome.fate == 1) {
        ReplayTruncate(file, op.offset);
        ++summary.truncates_persisted;
      } else {
        ++summary.truncates_dropped;
      }
      choices.Decided(outcome);
      continue;
    }
    const std::string_view bytes = pending.BytesOf(op);
    outcome.forced = op.tear_on_crash;
    outcome.fate = op.tear_on_crash ? 2 : choices.Choose(ChoicePoint::kWrite, 3);
    sector_outcomes.clear();
    if (outcome.fate == 1) {
      PersistWhole(file, op, bytes, misplaced);
      ++summary.writes_persisted;
    } else {
      ReplayPartialWrite(file, op, bytes, /*torn=*/outcome.fate == 2, sectors, choices, summary,
                         misplaced, outcome, sector_outcomes);
      ++(outcome.fate == 2 ? summary.writes_torn : summary.writes_dropped);
    }
    outcome.sectors = absl::MakeConstSpan(sector_outcomes);
    choices.Decided(outcome);
  }
  file.phys.resize(file.size_bytes);
  durable_bytes = std::move(file.phys);
}

DurableState ResolveCrash(const CrashInput& input, ChoiceSource& choices, CrashSummary* summary) {
  FAULTLINE_CHECK(input.durable != nullptr && input.namespace_ops != nullptr);
  FAULTLINE_CHECK(input.atomic_unit_bytes == 512 || input.atomic_unit_bytes == 4096);
  CrashSummary local_summary;
  CrashSummary& sum = summary != nullptr ? *summary : local_summary;
  DurableState state = *input.durable;

  NamespaceCrashOrder order;
  for (const NamespaceOp& op : *input.namespace_ops) {
    const bool forced = order.Forced(op);
    const bool persisted = !forced && choices.Choose(ChoicePoint::kNamespaceOp, 2) == 1;
    order.Decided(op, persisted);
    choices.Decided(OpOutcome{.namespace_op = &op, .fate = persisted ? 1u : 0u, .forced = forced});
    if (persisted) {
      ApplyNamespaceOp(state, op);
      ++sum.namespace_persisted;
    } else {
      ++sum.namespace_dropped;
    }
  }

  uint64_t previous_inode = 0;
  std::vector<MisplacedWrite> misplaced;
  for (const auto& [inode, pending] : input.data) {
    FAULTLINE_CHECK_MSG(inode > previous_inode, "pending data must be listed by ascending inode");
    previous_inode = inode;
    if (pending == nullptr || pending->empty()) continue;
    SectorModel sectors = input.sectors;
    sectors.logical_bytes = input.atomic_unit_bytes;
    ResolveDataOps(state.inodes[inode], *pending, sectors, choices, sum, misplaced, inode);
    if (!sum.unreadable_scratch.empty()) {
      std::vector<uint64_t>& unreadable = sum.unreadable_sectors[inode];
      unreadable.insert(unreadable.end(), sum.unreadable_scratch.begin(),
                        sum.unreadable_scratch.end());
      sum.unreadable_scratch.clear();
    }
  }
  ApplyMisplacedWrites(state.inodes, misplaced);
  CollectOrphans(state);
  return state;
}

}  // namespace faultline::sim::disk
