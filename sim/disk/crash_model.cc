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

void PersistWhole(Replay& file, const DataOp& op, std::string_view bytes) {
  EnsurePhys(file, op.durable_offset + op.length_bytes);
  if (!bytes.empty()) std::memcpy(file.phys.data() + op.durable_offset, bytes.data(), bytes.size());
  ExtendSize(file, op.offset + op.length_bytes);
}

void ReplayTruncate(Replay& file, uint64_t new_size_bytes) {
  // Blocks past the old logical end are freed, then the file is zero-extended.
  file.phys.resize(file.size_bytes);
  file.phys.resize(new_size_bytes, '\0');
  file.size_bytes = new_size_bytes;
}

// A write that is not persisted whole: per-sector outcomes (appended to
// `sectors`, recorded in `outcome`), and maybe the size update without (all
// of) the data.
void ReplayPartialWrite(Replay& file, const DataOp& op, std::string_view bytes, bool torn,
                        uint32_t unit_bytes, ChoiceSource& choices, CrashSummary& summary,
                        OpOutcome& outcome, std::vector<uint8_t>& sectors) {
  const uint64_t logical_end = op.offset + op.length_bytes;
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
  EnsurePhys(file, op.durable_offset + op.length_bytes);
  outcome.unit_bytes = unit_bytes;
  outcome.first_sector = first_sector;
  for (uint64_t sector = first_sector; sector <= last_sector; ++sector) {
    const uint64_t begin = std::max(sector * unit_bytes, op.durable_offset);
    const uint64_t end = std::min((sector + 1) * unit_bytes, op.durable_offset + op.length_bytes);
    uint32_t sector_outcome;
    if (op.tear_on_crash && first_sector != last_sector && sector == first_sector) {
      sector_outcome = 1;  // a forced tear keeps its first sector and loses its last
    } else if (op.tear_on_crash && first_sector != last_sector && sector == last_sector) {
      sector_outcome = 0;
    } else if (op.tear_on_crash && first_sector == last_sector) {
      sector_outcome = 2;  // one atomic sector cannot tear: it turns to garbage
    } else {
      sector_outcome = choices.Choose(ChoicePoint::kTornSector, 3);
    }
    sectors.push_back(static_cast<uint8_t>(sector_outcome));
    if (sector_outcome == 1) {
      std::memcpy(file.phys.data() + begin, bytes.data() + (begin - op.durable_offset),
                  end - begin);
    } else if (sector_outcome == 2) {
      choices.FillGarbage(absl::Span<char>(file.phys.data() + begin, end - begin));
      ++summary.garbage_sectors;
    }
  }
}

}  // namespace

void ApplyAllDataOps(std::string& bytes, const PendingData& pending) {
  Replay file{.phys = std::move(bytes), .size_bytes = 0};
  file.size_bytes = file.phys.size();
  for (const DataOp& op : pending.ops) {
    if (op.kind == DataOp::Kind::kTruncate) {
      ReplayTruncate(file, op.offset);
    } else {
      PersistWhole(file, op, pending.BytesOf(op));
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
                    ChoiceSource& choices, CrashSummary& summary, uint64_t inode) {
  Replay file{.phys = std::move(durable_bytes), .size_bytes = 0};
  file.size_bytes = file.phys.size();
  std::vector<uint8_t> sectors;  // a torn write's sector outcomes, reused op after op
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
    sectors.clear();
    if (outcome.fate == 1) {
      PersistWhole(file, op, bytes);
      ++summary.writes_persisted;
    } else {
      ReplayPartialWrite(file, op, bytes, /*torn=*/outcome.fate == 2, unit_bytes, choices, summary,
                         outcome, sectors);
      ++(outcome.fate == 2 ? summary.writes_torn : summary.writes_dropped);
    }
    outcome.sectors = absl::MakeConstSpan(sectors);
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
  for (const auto& [inode, pending] : input.data) {
    FAULTLINE_CHECK_MSG(inode > previous_inode, "pending data must be listed by ascending inode");
    previous_inode = inode;
    if (pending == nullptr || pending->empty()) continue;
    ResolveDataOps(state.inodes[inode], *pending, input.atomic_unit_bytes, choices, sum, inode);
  }
  CollectOrphans(state);
  return state;
}

}  // namespace faultline::sim::disk
