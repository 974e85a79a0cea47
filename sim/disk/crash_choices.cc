// sim/disk/crash_choices.cc — random crash decisions and their accounting
// (see crash_choices.h).
#include "sim/disk/crash_choices.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"

namespace faultline::sim::disk {
namespace {

std::string_view NamespaceKindName(NamespaceOp::Kind kind) {
  switch (kind) {
    case NamespaceOp::Kind::kCreate: return "create";
    case NamespaceOp::Kind::kRename: return "rename";
    case NamespaceOp::Kind::kRemove: return "remove";
    case NamespaceOp::Kind::kMkdir: return "mkdir";
    case NamespaceOp::Kind::kRenameDir: return "rename dir";
  }
  return "?";
}

// "kept 2, lost 3, garbage 4-5": a torn write's sectors, grouped by outcome
// into runs of consecutive sectors.
std::string SectorRuns(const OpOutcome& outcome) {
  static constexpr std::pair<uint8_t, std::string_view> kGroups[] = {
      {1, "kept"}, {0, "lost"}, {2, "garbage"}};
  std::string text;
  for (const auto& [wanted, label] : kGroups) {
    std::string runs;
    for (size_t i = 0; i < outcome.sectors.size(); ++i) {
      if (outcome.sectors[i] != wanted) continue;
      size_t last = i;
      while (last + 1 < outcome.sectors.size() && outcome.sectors[last + 1] == wanted) ++last;
      absl::StrAppend(&runs, runs.empty() ? "" : " ", outcome.first_sector + i);
      if (last > i) absl::StrAppend(&runs, "-", outcome.first_sector + last);
      i = last;
    }
    if (!runs.empty()) absl::StrAppend(&text, text.empty() ? "" : ", ", AsAbsl(label), " ", runs);
  }
  return text;
}

// A number standing for everything OpOutcome says, for the trace hash (the
// text is only built when events are kept).
uint64_t OutcomeKey(const OpOutcome& outcome) {
  uint64_t key = Trace::Fold(outcome.fate, outcome.forced ? 1 : 0);
  if (outcome.namespace_op != nullptr) {
    const NamespaceOp& op = *outcome.namespace_op;
    key = Trace::Fold(Trace::Fold(key, static_cast<uint64_t>(op.kind)), op.inode);
    return Trace::Fold(Trace::Fold(key, Trace::HashBytes(op.path)), Trace::HashBytes(op.to_path));
  }
  key = Trace::Fold(Trace::Fold(key, 16 + static_cast<uint64_t>(outcome.data_op->kind)), outcome.inode);
  key = Trace::Fold(Trace::Fold(key, outcome.size_without_data), outcome.first_sector);
  for (const uint8_t sector : outcome.sectors) key = Trace::Fold(key, sector);
  return key;
}

// Crash decisions drawn from Stream::kDisk with the plan's CrashRates. What
// they did to each pending op is one kDisk event at the crashed node (file,
// offset, length, outcome; the text only when events are kept).
class RandomChoices final : public ChoiceSource {
 public:
  // `names` (path → inode) or `only_path` (the one file decided) names files.
  RandomChoices(Scheduler& scheduler, const CrashRates& rates, NodeId node,
                const std::map<std::string, uint64_t>* names, std::string_view only_path = {})
      : scheduler_(scheduler), prng_(scheduler.prng(Stream::kDisk)), rates_(rates), node_(node),
        names_(names), only_path_(only_path) {}

  uint32_t Choose(ChoicePoint point, uint32_t arity) override {
    FAULTLINE_CHECK(arity >= 2);
    uint32_t choice = Draw(point);
    if (choice >= arity) choice = arity - 1;
    return choice;
  }

  void Decided(const OpOutcome& outcome) override {
    TraceField a, b;
    if (outcome.data_op != nullptr && outcome.data_op->kind == DataOp::Kind::kTruncate) {
      a = {"size", outcome.data_op->offset};
    } else if (outcome.data_op != nullptr) {
      a = {"off", outcome.data_op->offset};
      b = {"len", outcome.data_op->length_bytes};
    }
    scheduler_.RecordLazyAt(node_, TraceKind::kDisk, a, b, OutcomeKey(outcome),
                            [&] { return Describe(outcome); });
  }

  void FillGarbage(absl::Span<char> out) override {
    size_t done = 0;
    while (done < out.size()) {
      const uint64_t word = prng_.NextU64();
      const size_t chunk = std::min<size_t>(8, out.size() - done);
      std::memcpy(out.data() + done, &word, chunk);
      done += chunk;
    }
  }

 private:
  uint32_t Draw(ChoicePoint point) {
    switch (point) {
      case ChoicePoint::kNamespaceOp: return prng_.ChancePpm(rates_.namespace_persist_ppm) ? 1 : 0;
      case ChoicePoint::kTruncate: return prng_.ChancePpm(rates_.truncate_persist_ppm) ? 1 : 0;
      case ChoicePoint::kWrite: {
        FAULTLINE_CHECK(uint64_t{rates_.write_persist_ppm} + rates_.write_torn_ppm <= 1'000'000);
        const uint64_t draw = prng_.Below(1'000'000);
        if (draw < rates_.write_persist_ppm) return 1;
        return draw < uint64_t{rates_.write_persist_ppm} + rates_.write_torn_ppm ? 2 : 0;
      }
      case ChoicePoint::kTornSector:
        if (!prng_.ChancePpm(rates_.torn_sector_persist_ppm)) return 0;
        return rates_.torn_sector_garbage_ppm != 0 && prng_.ChancePpm(rates_.torn_sector_garbage_ppm)
                   ? 2
                   : 1;
      case ChoicePoint::kSizeWithoutData:
        if (!prng_.ChancePpm(rates_.size_without_data_ppm)) return 0;
        return rates_.size_garbage_ppm != 0 && prng_.ChancePpm(rates_.size_garbage_ppm) ? 2 : 1;
      case ChoicePoint::kSectorDamage: return prng_.ChancePpm(rates_.sector_damage_ppm) ? 1 : 0;
      case ChoicePoint::kUnreadableSector:
        return prng_.ChancePpm(rates_.torn_sector_unreadable_ppm) ? 1 : 0;
      case ChoicePoint::kForcedTearShape: return prng_.Chance(1, 2) ? 1 : 0;
    }
    return 0;
  }

  // "write wal/1.wal: torn (512-byte sectors: kept 2, lost 3); size without
  // data (zeros)", "rename a -> b: persisted".
  std::string Describe(const OpOutcome& outcome) const {
    const std::string_view fate = outcome.fate == 0 ? "dropped" : outcome.fate == 1 ? "persisted" : "torn";
    if (outcome.namespace_op != nullptr) {
      const NamespaceOp& op = *outcome.namespace_op;
      return absl::StrCat(AsAbsl(NamespaceKindName(op.kind)), " ", op.path,
                          op.kind == NamespaceOp::Kind::kRename || op.kind == NamespaceOp::Kind::kRenameDir
                              ? absl::StrCat(" -> ", op.to_path)
                              : "",
                          ": ", AsAbsl(fate),
                          outcome.forced ? " (after a dropped op it depends on)" : "");
    }
    const bool truncate = outcome.data_op->kind == DataOp::Kind::kTruncate;
    std::string text = absl::StrCat(truncate ? "truncate " : "write ", NameOf(outcome.inode), ": ",
                                    AsAbsl(fate));
    if (outcome.fate == 2) {
      absl::StrAppend(&text, " (", outcome.unit_bytes, "-byte sectors: ", SectorRuns(outcome), ")");
    }
    if (outcome.size_without_data != 0) {
      absl::StrAppend(&text, "; size without data (",
                      outcome.size_without_data == 1 ? "zeros" : "garbage", ")");
    }
    if (outcome.forced) text += "; torn by the fault plan";
    return text;
  }

  std::string NameOf(uint64_t inode) const {
    if (!only_path_.empty()) return std::string(only_path_);
    if (names_ != nullptr) {
      for (const auto& [path, id] : *names_) {
        if (id == inode) return path;
      }
    }
    return absl::StrCat("(inode ", inode, ", no name)");
  }

  Scheduler& scheduler_;
  Prng& prng_;
  const CrashRates& rates_;
  const NodeId node_;
  const std::map<std::string, uint64_t>* const names_;
  const std::string_view only_path_;
};

void NoteOutcomes(FaultRecorder& recorder, NodeId node, const CrashSummary& summary) {
  const std::pair<FaultKind, uint64_t> outcomes[] = {
      {FaultKind::kTornWrite, summary.writes_torn},
      {FaultKind::kDroppedWrite, summary.writes_dropped},
      {FaultKind::kGarbageSector, summary.garbage_sectors},
      {FaultKind::kSizeWithoutData, summary.sizes_without_data},
      {FaultKind::kDroppedTruncate, summary.truncates_dropped},
      {FaultKind::kDroppedNamespaceOp, summary.namespace_dropped},
      {FaultKind::kPhysicalSectorDamage, summary.damaged_physical_sectors},
      {FaultKind::kTornWriteHole, summary.torn_writes_with_hole},
  };
  for (const auto& [kind, count] : outcomes) {
    if (count == 0) continue;
    recorder.Count(kind, count - 1);  // Note adds the last one
    const std::string_view name = FaultKindName(kind);
    recorder.Note(kind, node, {"count", count},
                  absl::StrCat("crash: ", AsAbsl(name), " x", count));
  }
}

void FlipBits(DurableState& state, Prng& prng, uint32_t flip_ppm, FaultRecorder& recorder,
              NodeId node) {
  if (flip_ppm == 0) return;
  for (const auto& [path, inode] : state.files) {  // by path: deterministic
    std::string& bytes = state.inodes[inode];
    if (bytes.empty() || !prng.ChancePpm(flip_ppm)) continue;
    const uint64_t bit = prng.Below(bytes.size() * 8);
    bytes[bit / 8] = static_cast<char>(bytes[bit / 8] ^ (1u << (bit % 8)));
    recorder.Note(FaultKind::kBitFlip, node, {"bit", bit}, absl::StrCat("bit flip in ", path));
  }
}

}  // namespace

void DrawFailedSyncWriteback(Scheduler& scheduler, const FaultPlan& plan, FaultRecorder& recorder,
                             NodeId node, uint32_t unit_bytes, const PendingData& pending,
                             uint64_t inode, std::string_view path, std::string& durable_bytes,
                             std::map<uint64_t, std::string>& durable_inodes) {
  RandomChoices choices(scheduler, plan.crash, node, nullptr, path);
  CrashSummary summary;
  std::vector<MisplacedWrite> misplaced;
  ResolveDataOps(durable_bytes, pending, unit_bytes, choices, summary, misplaced, inode);
  ApplyMisplacedWrites(durable_inodes, misplaced);
  NoteOutcomes(recorder, node, summary);
}

DurableState DrawCrashState(Scheduler& scheduler, const FaultPlan& plan, FaultRecorder& recorder,
                            NodeId node, const CrashInput& input,
                            std::map<uint64_t, std::vector<uint64_t>>* unreadable_sectors) {
  RandomChoices choices(scheduler, plan.crash, node, input.names);
  CrashSummary summary;
  DurableState state = ResolveCrash(input, choices, &summary);
  NoteOutcomes(recorder, node, summary);
  if (unreadable_sectors != nullptr) *unreadable_sectors = std::move(summary.unreadable_sectors);
  FlipBits(state, scheduler.prng(Stream::kDisk), plan.rates.bit_flip_per_file_ppm, recorder, node);
  return state;
}

}  // namespace faultline::sim::disk
