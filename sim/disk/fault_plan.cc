// sim/disk/fault_plan.cc — names, stats formatting, latency draws (see fault_plan.h).
#include "sim/disk/fault_plan.h"

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"

namespace faultline::sim::disk {

std::string_view DiskOpName(DiskOp op) {
  switch (op) {
    case DiskOp::kRead: return "read";
    case DiskOp::kWrite: return "write";
    case DiskOp::kTruncate: return "truncate";
    case DiskOp::kSync: return "sync";
    case DiskOp::kSyncDir: return "sync_dir";
    case DiskOp::kOpen: return "open";
    case DiskOp::kRename: return "rename";
    case DiskOp::kRemove: return "remove";
    case DiskOp::kCreateDir: return "create_dir";
  }
  return "?";
}

std::string_view FaultKindName(FaultKind kind) {
  switch (kind) {
    case FaultKind::kReadEio: return "read_eio";
    case FaultKind::kWriteEio: return "write_eio";
    case FaultKind::kSyncEio: return "sync_eio";
    case FaultKind::kSyncDirEio: return "sync_dir_eio";
    case FaultKind::kNoSpace: return "no_space";
    case FaultKind::kLatentSectorRead: return "latent_sector_read";
    case FaultKind::kBitFlip: return "bit_flip";
    case FaultKind::kMisdirectedWrite: return "misdirected_write";
    case FaultKind::kStuck: return "stuck";
    case FaultKind::kInjectedCrash: return "injected_crash";
    case FaultKind::kTornWrite: return "torn_write";
    case FaultKind::kDroppedWrite: return "dropped_write";
    case FaultKind::kGarbageSector: return "garbage_sector";
    case FaultKind::kSizeWithoutData: return "size_without_data";
    case FaultKind::kDroppedTruncate: return "dropped_truncate";
    case FaultKind::kDroppedNamespaceOp: return "dropped_namespace_op";
    case FaultKind::kErrseqReport: return "errseq_report";
    case FaultKind::kLatency: return "latency";
    case FaultKind::kLostFile: return "lost_file";
    case FaultKind::kTruncatedFile: return "truncated_file";
    case FaultKind::kLatencySpike: return "latency_spike";
  }
  return "?";
}

std::string FaultStats::ToString() const {
  std::string text;
  for (size_t i = 0; i < kFaultKindCount; ++i) {
    if (counts[i] == 0) continue;
    const std::string_view name = FaultKindName(static_cast<FaultKind>(i));
    absl::StrAppend(&text, text.empty() ? "" : " ", AsAbsl(name),
                    "=", counts[i]);
  }
  return text;
}

int64_t LatencyModel::Draw(Prng& prng) const {
  switch (kind) {
    case Kind::kNone: return 0;
    case Kind::kFixed: return min_ns;
    case Kind::kUniform:
      FAULTLINE_CHECK(min_ns <= max_ns);
      return prng.Between(min_ns, max_ns);
    case Kind::kExponential: return min_ns + prng.Exponential(mean_ns);
  }
  return 0;
}

}  // namespace faultline::sim::disk
