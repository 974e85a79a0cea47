// sim/disk/fault_injector.cc — the per-operation fault decision (see
// fault_injector.h).
#include "sim/disk/fault_injector.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"
#include "core/base/absl_string_view.h"
#include "core/base/status_macros.h"

namespace faultline::sim::disk {
namespace {

constexpr uint64_t kMaxStuckWakeups = 1'000'000;  // spurious wake-ups are re-checked; bounded

// Fibers parked on a stuck disk are tracked so Unstick can wake them; the
// guard removes its fiber even when the park throws FiberKilled, so the list
// never holds a fiber that is gone.
class StuckWaiterGuard {
 public:
  StuckWaiterGuard(std::vector<runtime::Fiber*>& waiters, runtime::Fiber* fiber)
      : waiters_(waiters), fiber_(fiber) {
    waiters_.push_back(fiber_);
  }
  ~StuckWaiterGuard() {
    auto it = std::find(waiters_.begin(), waiters_.end(), fiber_);
    if (it != waiters_.end()) waiters_.erase(it);
  }
  StuckWaiterGuard(const StuckWaiterGuard&) = delete;
  StuckWaiterGuard& operator=(const StuckWaiterGuard&) = delete;

 private:
  std::vector<runtime::Fiber*>& waiters_;
  runtime::Fiber* fiber_;
};

FaultKind EioKindFor(DiskOp op) {
  switch (op) {
    case DiskOp::kRead: return FaultKind::kReadEio;
    case DiskOp::kSync: return FaultKind::kSyncEio;
    case DiskOp::kSyncDir: return FaultKind::kSyncDirEio;
    default: return FaultKind::kWriteEio;
  }
}

// A kFault event's kind field, printed by name.
std::string_view FaultKindValueName(uint64_t kind) {
  return kind < kFaultKindCount ? FaultKindName(static_cast<FaultKind>(kind)) : "?";
}

}  // namespace

void FaultRecorder::Note(FaultKind kind, NodeId node, TraceField detail, std::string_view text) {
  stats_.Add(kind);
  scheduler_.RecordAt(node, TraceKind::kFault, {"kind", static_cast<uint64_t>(kind), FaultKindValueName},
                      detail, text);
}

std::string_view ArmedOpsName(ArmedOps ops) {
  switch (ops) {
    case ArmedOps::kFileSync: return "file_sync";
    case ArmedOps::kDirSync: return "dir_sync";
    case ArmedOps::kWrite: return "write";
    case ArmedOps::kAnyOp: return "any_op";
  }
  return "?";
}

const LatencyModel& FaultInjector::LatencyOf(DiskOp op) const {
  switch (op) {
    case DiskOp::kRead: return plan_.latency.read;
    case DiskOp::kWrite:
    case DiskOp::kTruncate: return plan_.latency.write;
    case DiskOp::kSync:
    case DiskOp::kSyncDir: return plan_.latency.sync;
    default: return plan_.latency.metadata;
  }
}

uint32_t FaultInjector::EioPpmOf(DiskOp op) const {
  switch (op) {
    case DiskOp::kRead: return plan_.rates.read_eio_ppm;
    case DiskOp::kWrite: return plan_.rates.write_eio_ppm;
    case DiskOp::kSync: return plan_.rates.sync_eio_ppm;
    case DiskOp::kSyncDir: return plan_.rates.sync_dir_eio_ppm;
    default: return 0;
  }
}

FaultInjector::Decision FaultInjector::Begin(DiskOp op, std::string_view what) {
  const uint64_t nth = ++op_counts_[static_cast<size_t>(op)];
  Decision decision;
  decision.nth = nth;
  int64_t stick_ns = -1;
  FAULTLINE_CHECK(plan_.rules.size() <= FaultPlan::kMaxRules);
  for (const FaultRule& rule : plan_.rules) {
    if (rule.node != node_ || rule.op != op || rule.nth != nth) continue;
    switch (rule.action) {
      case FaultAction::kEio: decision.eio = true; break;
      case FaultAction::kNoSpace: decision.no_space = true; break;
      case FaultAction::kCrashBefore: decision.crash_before = true; break;
      case FaultAction::kCrashAfter: decision.crash_after = true; break;
      case FaultAction::kTearOnCrash: decision.tear_on_crash = true; break;
      case FaultAction::kMisdirect: decision.misdirect = true; break;
      case FaultAction::kStick: stick_ns = std::max<int64_t>(stick_ns, rule.stuck_for_ns); break;
    }
    if (rule.action == FaultAction::kCrashBefore || rule.action == FaultAction::kCrashAfter) {
      decision.crash_kind = rule.crash_kind;
    }
  }
  const FaultRates& rates = plan_.rates;
  Prng& prng = scheduler_.prng(Stream::kDisk);
  if (rates.stuck_ppm != 0 && prng.ChancePpm(rates.stuck_ppm)) {
    stick_ns = std::max(stick_ns, rates.stuck_ns);
  }
  if (stick_ns >= 0) {
    stuck_until_ns_ = std::max(stuck_until_ns_, runtime::DeadlineAfter(scheduler_.NowNs(), stick_ns));
    recorder_.Note(FaultKind::kStuck, node_, {"stuck_ns", static_cast<uint64_t>(stick_ns)},
                   absl::StrCat("disk stuck at ", AsAbsl(DiskOpName(op)), " #", nth, " ", AsAbsl(what)));
  }
  if (stuck_until_ns_ > scheduler_.NowNs()) WaitWhileStuck();
  const LatencyModel& latency = LatencyOf(op);
  if (latency.kind != LatencyModel::Kind::kNone) {
    const int64_t latency_ns = latency.Draw(prng);
    if (latency_ns > 0) Sleep(latency_ns);
  }
  if (rates.latency_spike_ppm != 0 && prng.ChancePpm(rates.latency_spike_ppm) &&
      rates.latency_spike_ns > 0) {
    recorder_.Note(FaultKind::kLatencySpike, node_, {"spike_ns", static_cast<uint64_t>(rates.latency_spike_ns)},
                   absl::StrCat("latency spike at ", AsAbsl(DiskOpName(op)), " #", nth, " ", AsAbsl(what)));
    FAULTLINE_CHECK_MSG(scheduler_.CurrentFiber() != nullptr,
                        "a latency spike needs a fiber to park (call from a fiber)");
    scheduler_.SleepFor(rates.latency_spike_ns);
  }
  return decision;
}

void FaultInjector::DrawFaults(DiskOp op, Decision& decision, std::string_view what) {
  const FaultRates& rates = plan_.rates;
  Prng& prng = scheduler_.prng(Stream::kDisk);
  const uint64_t nth = decision.nth;
  const uint32_t eio_ppm = EioPpmOf(op);
  // A read EIO by rate is transient: the retry of the same file reads. A
  // sector that fails every read is a latent sector error, a fault of its
  // own that the scenarios account for.
  const bool retry = op == DiskOp::kRead && !transient_read_eio_.empty() &&
                     what == transient_read_eio_;
  if (eio_ppm != 0 && prng.ChancePpm(eio_ppm) && !retry && !decision.eio) {
    decision.eio = true;
    if (op == DiskOp::kRead) transient_read_eio_ = std::string(what);
  } else if (retry) {
    transient_read_eio_.clear();
  }
  if (op == DiskOp::kWrite && rates.misdirect_write_ppm != 0 &&
      prng.ChancePpm(rates.misdirect_write_ppm)) {
    decision.misdirect = true;
  }
  if (decision.eio) {
    recorder_.Note(EioKindFor(op), node_, {"nth", nth},
                   absl::StrCat("EIO on ", AsAbsl(DiskOpName(op)), " #", nth, " ", AsAbsl(what)));
  }
  if (decision.no_space) {
    recorder_.Note(FaultKind::kNoSpace, node_, {"nth", nth},
                   absl::StrCat("ENOSPC on ", AsAbsl(DiskOpName(op)), " #", nth, " ", AsAbsl(what)));
  }
}

uint64_t FaultInjector::MisdirectedOffset(uint64_t offset, uint64_t size_bytes,
                                          uint32_t unit_bytes, std::string_view what,
                                          bool same_file) {
  const uint64_t sectors = std::max<uint64_t>(1, (size_bytes + unit_bytes - 1) / unit_bytes);
  uint64_t sector = scheduler_.prng(Stream::kDisk).Below(sectors);
  if (same_file && sector == offset / unit_bytes) sector = sectors;
  const uint64_t durable_offset = sector * unit_bytes + offset % unit_bytes;
  recorder_.Note(FaultKind::kMisdirectedWrite, node_, {"lands_at", durable_offset},
                 absl::StrCat(AsAbsl(what), " at ", offset, " lands at ", durable_offset));
  return durable_offset;
}

void FaultInjector::Sleep(int64_t latency_ns) {
  FAULTLINE_CHECK_MSG(scheduler_.CurrentFiber() != nullptr,
                      "disk latency needs a fiber to park (call from a fiber)");
  recorder_.Count(FaultKind::kLatency);
  scheduler_.SleepFor(latency_ns);
}

void FaultInjector::WaitWhileStuck() {
  for (uint64_t wakeups = 0; scheduler_.NowNs() < stuck_until_ns_; ++wakeups) {
    FAULTLINE_CHECK_MSG(wakeups < kMaxStuckWakeups, "too many wake-ups on a stuck disk");
    runtime::Fiber* fiber = scheduler_.CurrentFiber();
    FAULTLINE_CHECK_MSG(fiber != nullptr, "a stuck disk needs a fiber to park (call from a fiber)");
    StuckWaiterGuard guard(stuck_waiters_, fiber);
    scheduler_.Park(stuck_until_ns_, "stuck disk");
  }
}

void FaultInjector::Stick(int64_t until_ns) {
  stuck_until_ns_ = until_ns;
  recorder_.Note(FaultKind::kStuck, node_, {"until_ns", static_cast<uint64_t>(until_ns)},
                 "disk stuck");
  const std::vector<runtime::Fiber*> waiters = stuck_waiters_;
  for (runtime::Fiber* fiber : waiters) scheduler_.Unpark(fiber);
}

void FaultInjector::Unstick() {
  stuck_until_ns_ = 0;
  scheduler_.Record(TraceKind::kDisk, {"node", node_}, {}, "disk unstuck");
  const std::vector<runtime::Fiber*> waiters = stuck_waiters_;
  for (runtime::Fiber* fiber : waiters) scheduler_.Unpark(fiber);
}

void FaultInjector::Arm(CrashArm arm) {
  FAULTLINE_CHECK_MSG(arm.countdown >= 1, "a crash arm counts down from 1 or more");
  scheduler_.Record(TraceKind::kDisk, {"node", node_}, {"countdown", arm.countdown},
                    absl::StrCat("crash armed: ", AsAbsl(arm.label), " at ",
                                 AsAbsl(ArmedOpsName(arm.ops)), " #", arm.countdown,
                                 arm.after ? " after" : " before"));
  arm_ = std::move(arm);
}

uint64_t FaultInjector::MidWritePrefix(uint64_t offset, uint64_t length_bytes,
                                       std::string_view why, uint64_t unit_bytes) {
  FAULTLINE_CHECK(unit_bytes > 0);
  const uint64_t first_boundary = offset / unit_bytes + 1;            // in units
  const uint64_t last_boundary = (offset + length_bytes - 1) / unit_bytes;  // < end
  if (length_bytes == 0 || last_boundary < first_boundary) return 0;
  const uint64_t boundary =
      first_boundary + scheduler_.prng(Stream::kDisk).Below(last_boundary - first_boundary + 1);
  const uint64_t prefix_bytes = boundary * unit_bytes - offset;
  scheduler_.Record(TraceKind::kDisk, {"node", node_}, {"prefix_bytes", prefix_bytes},
                    why);
  return prefix_bytes;
}

std::optional<CrashArm> FaultInjector::CountForArm(ArmedOps ops) {
  if (!arm_.has_value()) return std::nullopt;
  if (arm_->ops != ops && arm_->ops != ArmedOps::kAnyOp) return std::nullopt;
  if (arm_->counts_when && !arm_->counts_when()) return std::nullopt;
  if (--arm_->countdown > 0) return std::nullopt;
  std::optional<CrashArm> fired = std::move(arm_);
  arm_.reset();
  return fired;
}

}  // namespace faultline::sim::disk
