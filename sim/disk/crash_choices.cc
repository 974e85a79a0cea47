// sim/disk/crash_choices.cc — random crash decisions and their accounting
// (see crash_choices.h).
#include "sim/disk/crash_choices.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"

namespace faultline::sim::disk {
namespace {

// What a crash did to one pending operation, in words (see ChoicePoint).
std::string_view OutcomeName(ChoicePoint point, uint32_t choice) {
  static constexpr std::string_view kNames[][3] = {
      {"namespace op dropped", "namespace op persisted", "?"},
      {"truncate dropped", "truncate persisted", "?"},
      {"write dropped", "write persisted", "write torn"},
      {"torn sector keeps old data", "torn sector keeps new data", "torn sector gets garbage"},
      {"size not persisted", "size without data (zeros)", "size without data (garbage)"},
      {"physical sector intact", "physical sector trashed", "?"},
      {"torn sector readable", "torn sector unreadable", "?"},
      {"forced tear keeps its first sector", "forced tear keeps its last sector", "?"},
  };
  const auto index = static_cast<size_t>(point);
  if (index >= std::size(kNames) || choice >= 3) return "?";
  return kNames[index][choice];
}

// Crash decisions drawn from Stream::kDisk with the plan's CrashRates. Each
// decision is folded into the trace (no text: cheap when not recording).
class RandomChoices final : public ChoiceSource {
 public:
  RandomChoices(Scheduler& scheduler, const CrashRates& rates)
      : scheduler_(scheduler), prng_(scheduler.prng(Stream::kDisk)), rates_(rates) {}

  uint32_t Choose(ChoicePoint point, uint32_t arity) override {
    FAULTLINE_CHECK(arity >= 2);
    uint32_t choice = Draw(point);
    if (choice >= arity) choice = arity - 1;
    scheduler_.Record(TraceKind::kCrash, {"choice_point", static_cast<uint64_t>(point)},
                      {"choice", choice}, OutcomeName(point, choice));
    return choice;
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

  Scheduler& scheduler_;
  Prng& prng_;
  const CrashRates& rates_;
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
                             std::string& durable_bytes,
                             std::map<uint64_t, std::string>& durable_inodes) {
  RandomChoices choices(scheduler, plan.crash);
  CrashSummary summary;
  std::vector<MisplacedWrite> misplaced;
  ResolveDataOps(durable_bytes, pending, unit_bytes, choices, summary, misplaced);
  ApplyMisplacedWrites(durable_inodes, misplaced);
  NoteOutcomes(recorder, node, summary);
}

DurableState DrawCrashState(Scheduler& scheduler, const FaultPlan& plan, FaultRecorder& recorder,
                            NodeId node, const CrashInput& input,
                            std::map<uint64_t, std::vector<uint64_t>>* unreadable_sectors) {
  RandomChoices choices(scheduler, plan.crash);
  CrashSummary summary;
  DurableState state = ResolveCrash(input, choices, &summary);
  NoteOutcomes(recorder, node, summary);
  if (unreadable_sectors != nullptr) *unreadable_sectors = std::move(summary.unreadable_sectors);
  FlipBits(state, scheduler.prng(Stream::kDisk), plan.rates.bit_flip_per_file_ppm, recorder, node);
  return state;
}

}  // namespace faultline::sim::disk
