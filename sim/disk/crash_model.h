// sim/disk/crash_model.h — what a crash does to data that is not durable.
//
// The state of one node's storage is a durable image (DurableState) plus the
// operations a crash has not yet decided about:
//
//  * namespace ops (create, rename, remove, mkdir) in issue order; SyncDir(d)
//    applies the ones it makes durable, in order (namespace_ops.h);
//  * per file (inode), data ops (writes and truncates) in issue order; a
//    successful File::Sync applies all of them to the durable bytes.
//
// A crash decides every pending op INDEPENDENTLY — there is no ordering
// between ops except the one a completed sync imposed (it applied them
// before the crash), and the one between namespace ops on the same inode or
// name (a rename is dropped when the create before it was; namespace_ops.h). Decisions come from a ChoiceSource, so the same code
// draws a random crash state (sim_file_system.cc, from Stream::kDisk) and
// enumerates all of them (crash_enumerator.h):
//
//  * a namespace op persists or is dropped, atomically (a rename is one op),
//    and is dropped without a decision when an op it is ordered after was;
//  * a truncate persists or is dropped;
//  * a write persists whole, is dropped, or is torn: each sector (the atomic
//    unit, 512 or 4096 bytes, counted from offset 0 of the file) that it
//    covers independently keeps its old bytes, gets the new ones, or gets
//    garbage. Garbage is confined to the bytes the write covered inside that
//    sector — bytes the host never rewrote are not invented;
//  * on a device without powersafe overwrite (SectorModel), a torn write may
//    also trash the whole physical sector it was writing into, including
//    bytes of it the write never covered and that were synced before: each
//    physical sector a torn write touches is intact or wholly garbage. With
//    powersafe overwrite (the default) neighbours are never touched;
//  * a torn sector that turned to garbage may also fail its ECC: with
//    SectorModel::torn_sectors_unreadable it is reported unreadable (a
//    latent sector error until rewritten; CrashSummary::unreadable_sectors);
//  * a write that extends the file and is not persisted whole may persist the
//    new size anyway; the part of the new range whose data did not persist
//    reads as zeros (or garbage, inside the write's range).
//
// Replay keeps, per file, a physical byte buffer and a logical size: data
// may reach the disk past the logical size (its size update was dropped) and
// be revealed by a later write's size update, as on a real disk. Truncate
// discards what is past the new size and zero-extends.
//
// After the ops, files and directories whose parent directory does not
// durably exist are dropped (orphans), and inodes without a durable name are
// freed. The result, as path → bytes, is a DiskImage.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/types/span.h"
#include "sim/disk/fault_plan.h"
#include "sim/disk/namespace_ops.h"

namespace faultline::sim::disk {

// One pending data operation on one file.
struct DataOp {
  enum class Kind : uint8_t { kWrite, kTruncate };
  Kind kind = Kind::kWrite;
  bool tear_on_crash = false;     // a FaultPlan rule forces a torn outcome
  uint64_t offset = 0;            // write: logical offset; truncate: new size
  uint64_t durable_offset = 0;    // write: where the device puts the bytes
                                  // (!= offset for a misdirected write)
  uint64_t length_bytes = 0;      // write: length
  uint64_t arena_offset = 0;      // write: where its bytes start in the arena
  uint64_t seq = 0;               // write: issue order among the node's writes
  uint64_t landing_inode = 0;     // write: the inode whose blocks get the bytes
                                  // (a write misdirected into another file;
                                  // 0: this file). This file only grows.
};

// Bytes a write misdirected into another file put on the device: applied to
// that inode's durable bytes, inside its size (past it they are invisible).
struct MisplacedWrite {
  uint64_t inode = 0;
  uint64_t offset = 0;
  std::string bytes;
};
void ApplyMisplacedWrites(std::map<uint64_t, std::string>& inodes,
                          const std::vector<MisplacedWrite>& writes);

// A file's pending data ops and the bytes of its writes, back to back (one
// buffer, so a small write costs no allocation once it has grown).
struct PendingData {
  std::vector<DataOp> ops;
  std::string arena;

  bool empty() const { return ops.empty(); }
  void Clear() {
    ops.clear();
    arena.clear();
  }
  std::string_view BytesOf(const DataOp& op) const {
    return std::string_view(arena).substr(op.arena_offset, op.length_bytes);
  }
};

// The kinds of decision a crash makes; see the file comment for options.
enum class ChoicePoint : uint8_t {
  kNamespaceOp = 0,     // 0 dropped, 1 persisted
  kTruncate = 1,        // 0 dropped, 1 persisted
  kWrite = 2,           // 0 dropped, 1 persisted, 2 torn
  kTornSector = 3,      // 0 old, 1 new, 2 garbage
  kSizeWithoutData = 4, // 0 size not persisted, 1 persisted (zeros), 2 persisted (garbage)
  kSectorDamage = 5,    // (no powersafe overwrite) 0 physical sector intact, 1 all garbage
  kUnreadableSector = 6,  // (torn_sectors_unreadable) 0 readable, 1 fails its reads
  kForcedTearShape = 7,   // (forced_tear_may_hole) a forced tear keeps 0 its first
                          // sector or 1 its last (a hole before it)
};

// The device's sectors, as a crash sees them (DiskOptions has the profile).
struct SectorModel {
  uint32_t logical_bytes = 512;   // the atomic unit a write tears at (512 or 4096)
  // The unit a torn write can trash whole when !powersafe_overwrite (a
  // multiple of logical_bytes: 4096 on a 512e drive, which rewrites a whole
  // 4 KiB physical sector for a 512-byte logical write). 0 = logical_bytes.
  uint32_t physical_bytes = 0;
  // Powersafe overwrite (SQLite's term): a write cut off by power loss
  // damages no byte outside its own range. Off: the physical sectors it
  // touches may be trashed whole (ChoicePoint::kSectorDamage).
  bool powersafe_overwrite = true;
  // A torn sector that turned to garbage may be unreadable afterwards
  // (ChoicePoint::kUnreadableSector); with powersafe overwrite only one that
  // holds no byte from outside the torn write (below the file's end).
  bool torn_sectors_unreadable = false;
  // A forced tear (DataOp::tear_on_crash) of a write over several sectors
  // keeps its first sector and loses its last, or (with this, by
  // ChoicePoint::kForcedTearShape) loses its first and keeps its last: a
  // hole the device left before a later sector that did persist.
  bool forced_tear_may_hole = false;

  uint32_t physical() const { return physical_bytes == 0 ? logical_bytes : physical_bytes; }
};

// What a crash (or a failed sync's writeback) did to one pending op, once
// all of its decisions are made: what the trace says about it.
struct OpOutcome {
  // Exactly one is set: a namespace op, or a data op of file `inode`.
  const NamespaceOp* namespace_op = nullptr;
  const DataOp* data_op = nullptr;
  uint64_t inode = 0;
  // A namespace op or truncate: 0 dropped, 1 persisted. A write: 0 dropped,
  // 1 persisted whole, 2 torn.
  uint32_t fate = 0;
  // Decided without a draw: a namespace op ordered after a dropped one, or
  // a write a fault-plan rule tears.
  bool forced = false;
  // A write that extends the file and did not persist whole: the
  // ChoicePoint::kSizeWithoutData option (0 size not persisted, 1 zeros,
  // 2 garbage); 0 otherwise.
  uint32_t size_without_data = 0;
  // A torn write: the sectors it covers, from `first_sector` (the atomic
  // unit is `unit_bytes`), each with its ChoicePoint::kTornSector option
  // (0 old bytes kept, 1 new bytes, 2 garbage).
  uint32_t unit_bytes = 0;
  uint64_t first_sector = 0;
  absl::Span<const uint8_t> sectors;
};

// Where crash decisions come from.
class ChoiceSource {
 public:
  virtual ~ChoiceSource() = default;
  // Returns a value in [0, arity) for `point` (arity as documented per point,
  // or smaller when the resolution knows some options are meaningless).
  virtual uint32_t Choose(ChoicePoint point, uint32_t arity) = 0;
  // Fills `out` with garbage bytes.
  virtual void FillGarbage(absl::Span<char> out) = 0;
  // Told, after every decision about one pending op is made, what they did
  // to it (in the order ops are decided). `outcome` and what it points to
  // are valid during the call only. Default: nothing.
  virtual void Decided(const OpOutcome& outcome) { (void)outcome; }
};

// What a crash resolution decided, for stats and the trace.
struct CrashSummary {
  uint64_t writes_persisted = 0;
  uint64_t writes_torn = 0;
  uint64_t writes_dropped = 0;
  uint64_t garbage_sectors = 0;
  uint64_t sizes_without_data = 0;
  uint64_t truncates_persisted = 0;
  uint64_t truncates_dropped = 0;
  uint64_t namespace_persisted = 0;
  uint64_t namespace_dropped = 0;
  uint64_t damaged_physical_sectors = 0;  // trashed whole (no powersafe overwrite)
  uint64_t torn_writes_with_hole = 0;     // an earlier sector lost, a later one kept
  // Logical sectors left unreadable, per inode (ResolveDataOps fills
  // `unreadable_scratch`; ResolveCrash files it under the inode).
  std::map<uint64_t, std::vector<uint64_t>> unreadable_sectors;
  std::vector<uint64_t> unreadable_scratch;
};

// Applies every op of `pending` to `bytes` as persisted whole (a successful
// File::Sync).
// Bytes of writes misdirected into other files go to `misplaced`.
void ApplyAllDataOps(std::string& bytes, const PendingData& pending,
                     std::vector<MisplacedWrite>& misplaced);

// Decides each of one file's pending data ops (persisted, dropped, torn) and
// applies the outcome to `durable_bytes`: the data part of a crash, and of a
// writeback that failed partway (a failed sync). `inode` names the file in
// the outcomes `choices` is told.
void ResolveDataOps(std::string& durable_bytes, const PendingData& pending, uint32_t unit_bytes,
                    ChoiceSource& choices, CrashSummary& summary,
                    std::vector<MisplacedWrite>& misplaced, uint64_t inode);
// The same under a device's sector model (power loss on that device).
void ResolveDataOps(std::string& durable_bytes, const PendingData& pending,
                    const SectorModel& sectors, ChoiceSource& choices, CrashSummary& summary,
                    std::vector<MisplacedWrite>& misplaced, uint64_t inode);

// Resolves a crash: `durable` plus independently decided pending ops. The
// pending data is listed by inode id, ascending (the order of decisions).
// `atomic_unit_bytes` is the sector size (512 or 4096).
struct CrashInput {
  const DurableState* durable = nullptr;
  const std::vector<NamespaceOp>* namespace_ops = nullptr;
  std::vector<std::pair<uint64_t, const PendingData*>> data;  // by inode, ascending
  uint32_t atomic_unit_bytes = 512;
  // Physical sectors and their failure modes; its logical_bytes is ignored
  // (atomic_unit_bytes is the logical sector).
  SectorModel sectors;
  // The names files have when the crash strikes (path → inode), to word the
  // outcomes in the trace; optional (nullptr).
  const std::map<std::string, uint64_t>* names = nullptr;
};
DurableState ResolveCrash(const CrashInput& input, ChoiceSource& choices,
                          CrashSummary* summary = nullptr);

// Drops files and directories whose parent is not a durable directory, and
// inodes with no name.
void CollectOrphans(DurableState& state);

}  // namespace faultline::sim::disk
