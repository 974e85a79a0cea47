// scenarios/checkers/durability_checker.cc — see durability_checker.h.
#include "scenarios/checkers/durability_checker.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/check.h"
#include "core/base/status_macros.h"

namespace faultline::scenarios {
namespace {

// "#12 #20", or "#1 #2 #3 ... #19 #20 (9 crashes)" for a long list.
std::string EventList(const std::vector<uint64_t>& events) {
  constexpr size_t kHead = 3;
  constexpr size_t kTail = 2;
  std::string text;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events.size() > kHead + kTail + 1 && i == kHead) {
      text += " ...";
      i = events.size() - kTail;
    }
    absl::StrAppend(&text, text.empty() ? "#" : " #", events[i]);
  }
  if (events.size() > kHead + kTail + 1) absl::StrAppend(&text, " (", events.size(), " crashes)");
  return text;
}

}  // namespace

// The one shape of every verdict: invariant, record, detail, trace events,
// faults so far.
absl::Status DurabilityChecker::Violation(std::string_view invariant, uint64_t sequence,
                                          std::string_view detail,
                                          std::string_view pointers) const {
  std::string faults = faults_so_far_ ? faults_so_far_() : std::string();
  if (faults.empty()) faults = "none";
  return absl::InternalError(absl::StrCat(
      "durability violated: ", AsAbsl(invariant), " at sequence ", sequence, ": ", AsAbsl(detail),
      pointers.empty() ? "" : "; trace events: ", AsAbsl(pointers), "; faults injected: ", faults));
}

void DurabilityChecker::set_trace_hooks(TraceHooks hooks) { trace_hooks_ = std::move(hooks); }

void DurabilityChecker::NoteAckEvent(uint64_t sequence, bool recovered) {
  if (!trace_hooks_.next_event || sequence <= last_acked_) return;
  ack_events_.push_back({sequence, trace_hooks_.next_event(), recovered});
}

std::string DurabilityChecker::LossPointers(uint64_t sequence) const {
  if (!trace_hooks_.next_event) return "";
  std::string text;
  uint64_t after = recovered_event_;
  bool since_ack = false;
  const auto ack = std::lower_bound(
      ack_events_.begin(), ack_events_.end(), sequence,
      [](const AckEvent& event, uint64_t s) { return event.up_to_sequence < s; });
  if (ack != ack_events_.end()) {
    text = absl::StrCat("#", ack->event, ack->recovered ? " recovered sequence " : " acknowledged sequence ",
                        sequence);
    since_ack = ack->event >= after;
    after = std::max(after, ack->event);
  }
  const std::vector<uint64_t> crashes =
      trace_hooks_.crashes_since ? trace_hooks_.crashes_since(after) : std::vector<uint64_t>();
  if (crashes.size() == 1) {
    absl::StrAppend(&text, text.empty() ? "" : ", ", "#", crashes[0], " the crash that lost it");
  } else if (crashes.size() > 1) {
    absl::StrAppend(&text, text.empty() ? "" : ", ", "crashes ", EventList(crashes),
                    since_ack ? " since" : " since the last recovery that kept it",
                    " (one of them lost it)");
  }
  return text;
}

std::string DurabilityChecker::LastCrashPointer() const {
  if (!trace_hooks_.crashes_since) return "";
  const std::vector<uint64_t> crashes = trace_hooks_.crashes_since(recovered_event_);
  return crashes.empty() ? "" : absl::StrCat("#", crashes.back(), " the last crash");
}

DurabilityChecker::DurabilityChecker(uint64_t first_sequence,
                                     std::function<std::string()> faults_so_far)
    : base_sequence_(first_sequence),
      faults_so_far_(std::move(faults_so_far)),
      last_acked_(first_sequence - 1) {
  FAULTLINE_CHECK(first_sequence >= 1);
}

uint64_t DurabilityChecker::retained_start() const {
  return std::max(base_sequence_, released_below_);
}

absl::Status DurabilityChecker::Issue(uint64_t sequence, std::string_view payload) {
  if (sequence != last_issued() + 1) {
    return Violation("issue-order", sequence,
                     absl::StrCat("the log handed out sequence ", sequence, " after ",
                                  last_issued()));
  }
  issued_.emplace_back(payload);
  return absl::OkStatus();
}

absl::Status DurabilityChecker::Acknowledge(uint64_t sequence) {
  if (sequence < base_sequence_ || sequence > last_issued()) {
    return Violation("phantom-ack", sequence,
                     absl::StrCat("acknowledged, but issued sequences are [", base_sequence_, ", ",
                                  last_issued(), "]"));
  }
  if (first_failed_ != 0 && sequence >= first_failed_) {
    return Violation("fail-stop", sequence,
                     absl::StrCat("acknowledged as durable after the durability of sequence ",
                                  first_failed_, " failed"),
                     trace_hooks_.next_event
                         ? absl::StrCat("#", failed_event_, " the durability of sequence ",
                                        first_failed_, " failed")
                         : std::string());
  }
  NoteAckEvent(sequence, /*recovered=*/false);
  last_acked_ = std::max(last_acked_, sequence);
  return absl::OkStatus();
}

absl::Status DurabilityChecker::AcknowledgeRecord(uint64_t sequence, std::string_view payload,
                                                  bool stale) {
  if (sequence >= base_sequence_ && sequence <= last_issued()) {
    if (issued_[sequence - base_sequence_] != payload) {
      return Violation("one-payload-per-sequence", sequence,
                       absl::StrCat("acknowledged for a ", payload.size(),
                                    "-byte payload, but the log holds another one (",
                                    issued_[sequence - base_sequence_].size(),
                                    " bytes) at that sequence, acknowledged or recovered"));
    }
  } else if (stale) {
    return Violation("one-payload-per-sequence", sequence,
                     absl::StrCat("acknowledged by a destroyed log instance after a reopen "
                                  "recovered the log only up to ", last_issued()));
  }
  if (!stale) return Acknowledge(sequence);
  // A destroyed instance's acknowledgement of a record the log still holds:
  // binding, but not subject to the current instance's fail-stop.
  NoteAckEvent(sequence, /*recovered=*/false);
  last_acked_ = std::max(last_acked_, sequence);
  return absl::OkStatus();
}

absl::Status DurabilityChecker::CheckClose(const absl::Status& close,
                                           uint64_t records_failed) const {
  if (!close.ok() || records_failed == 0) return absl::OkStatus();
  return Violation("honest-close", last_acked_ + 1,
                   absl::StrCat("Close() returned OK although ", records_failed,
                                " of the records it was flushing failed"));
}

absl::Status DurabilityChecker::AcknowledgeFailed(uint64_t sequence) {
  if (sequence <= last_acked_) {
    return Violation("fail-stop", sequence,
                     absl::StrCat("its durability future failed after records up to ",
                                  last_acked_, " were acknowledged"));
  }
  if (first_failed_ == 0 || sequence < first_failed_) {
    first_failed_ = sequence;
    if (trace_hooks_.next_event) failed_event_ = trace_hooks_.next_event();
  }
  return absl::OkStatus();
}

void DurabilityChecker::NoteRelease(uint64_t below_sequence) {
  released_below_ = std::max(released_below_, below_sequence);
}

void DurabilityChecker::ExcuseUnprovableLoss(uint64_t last_vouched) {
  unprovable_excused_ = true;
  unprovable_after_ = std::max<uint64_t>(last_vouched, base_sequence_ - 1);
}

void DurabilityChecker::NoteCorruption(DeliberateDamage damage) {
  FAULTLINE_CHECK(damage.sequence >= 1);
  if (damage_.sequence == 0 || damage.sequence < damage_.sequence) damage_ = std::move(damage);
}

absl::Status DurabilityChecker::CheckRead(uint64_t sequence, std::string_view payload) const {
  if (sequence < base_sequence_ || sequence > last_issued()) {
    return Violation("reader", sequence,
                     absl::StrCat("a reader returned it, but issued sequences are [",
                                  base_sequence_, ", ", last_issued(), "]"));
  }
  const std::string& issued = issued_[sequence - base_sequence_];
  if (payload != issued) {
    return Violation("reader", sequence,
                     absl::StrCat("a reader returned ", payload.size(),
                                  " bytes that differ from the ", issued.size(), " bytes issued"));
  }
  return absl::OkStatus();
}

absl::Status DurabilityChecker::CheckLog(uint64_t first_sequence,
                                         absl::Span<const LogRecord> records,
                                         uint64_t* end_sequence) const {
  // Order and contiguity first, so that the payload check below can index
  // by position. Bounded by the number of records.
  for (size_t i = 0; i < records.size(); ++i) {
    const uint64_t expected = first_sequence + i;
    const uint64_t got = records[i].sequence;
    if (got == expected) continue;
    if (i > 0 && got <= records[i - 1].sequence) {
      return Violation("no-duplicate", got,
                       absl::StrCat("recovered again after sequence ", records[i - 1].sequence));
    }
    if (i == 0) {
      return Violation("prefix", got,
                       absl::StrCat("the log says it starts at ", first_sequence,
                                    " but its first record is ", got));
    }
    return Violation("prefix", expected,
                     absl::StrCat("missing between recovered records ", records[i - 1].sequence,
                                  " and ", got));
  }
  const uint64_t end = first_sequence + records.size() - 1;  // first - 1 when empty
  for (const LogRecord& record : records) {
    if (record.sequence < base_sequence_ || record.sequence > last_issued()) {
      return Violation("no-phantom", record.sequence,
                       absl::StrCat("recovered, but issued sequences are [", base_sequence_, ", ",
                                    last_issued(), "]"));
    }
    const std::string& issued = issued_[record.sequence - base_sequence_];
    if (record.payload != issued) {
      return Violation("no-corrupt", record.sequence,
                       absl::StrCat("recovered ", record.payload.size(),
                                    " bytes that differ from the ", issued.size(),
                                    " bytes issued"));
    }
  }
  if (end > last_issued()) {
    // Only an empty log gets here (a record past the issued ones failed
    // above): it claims records up to `end` existed, and would hand out
    // end + 1 next.
    return Violation("no-phantom", end,
                     absl::StrCat("an empty log that starts at ", first_sequence,
                                  ", but issued sequences end at ", last_issued()));
  }
  if (first_sequence < base_sequence_ && !records.empty()) {
    // Covered by the phantom check above; an empty log may report any start
    // at or below its end.
    return Violation("no-phantom", first_sequence, "the log starts before the first issued record");
  }
  // Retained: [retained_start, last_acked] must all be there.
  const uint64_t must_start = retained_start();
  if (must_start <= last_acked_) {
    if (first_sequence > must_start) {
      return Violation("retained", must_start,
                       absl::StrCat("acknowledged and not released (release bound ",
                                    released_below_, "), but the recovered log starts at ",
                                    first_sequence),
                       LossPointers(must_start));
    }
    const bool excused = unprovable_excused_ && end >= unprovable_after_;
    if (end < last_acked_ && !excused) {
      return Violation("prefix", end + 1,
                       absl::StrCat("acknowledged as durable (last acknowledged ", last_acked_,
                                    ") but lost: the recovered log ends at ", end),
                       LossPointers(end + 1));
    }
  } else if (first_sequence > must_start && !records.empty()) {
    // Nothing acknowledged is at stake, but records before the first
    // recovered one vanished while it survived: not a prefix.
    return Violation("prefix", must_start,
                     absl::StrCat("missing, yet the log holds records from ", first_sequence));
  }
  *end_sequence = end;
  return absl::OkStatus();
}

absl::Status DurabilityChecker::CheckRecovery(uint64_t first_sequence,
                                              absl::Span<const LogRecord> records) {
  uint64_t end = 0;
  FAULTLINE_RETURN_IF_ERROR(CheckLog(first_sequence, records, &end));
  // Rebase: records issued past `end` are lost for good and their numbers
  // will be handed out again; what came back is durable (Wal::Open syncs it).
  if (end + 1 >= base_sequence_ && end < last_issued()) {
    issued_.resize(end + 1 - base_sequence_);
  }
  // An excused loss (ExcuseUnprovableLoss) takes acknowledged records with
  // it, and with them the events that acknowledged them.
  if (unprovable_excused_) {
    last_acked_ = std::min(last_acked_, end);
    while (!ack_events_.empty() && ack_events_.back().up_to_sequence > end) ack_events_.pop_back();
  }
  unprovable_excused_ = false;
  NoteAckEvent(end, /*recovered=*/true);
  last_acked_ = std::max(last_acked_, end);
  first_failed_ = 0;
  if (trace_hooks_.next_event) recovered_event_ = trace_hooks_.next_event();
  have_recovered_ = true;
  recovered_first_ = first_sequence;
  recovered_end_ = end;
  ++recoveries_checked_;
  return absl::OkStatus();
}

absl::Status DurabilityChecker::CheckReopen(uint64_t first_sequence,
                                            absl::Span<const LogRecord> records) {
  FAULTLINE_CHECK_MSG(have_recovered_, "CheckReopen before any CheckRecovery");
  // Compare the extent first: a reopen that lost or gained records is an
  // idempotence failure before it is anything else.
  const uint64_t end = first_sequence + records.size() - 1;  // first - 1 when empty
  if (unprovable_excused_ && end < recovered_end_ && end >= unprovable_after_) {
    // The first recovery read records from the cache that the device never
    // held where they belong (ExcuseUnprovableLoss): a shorter reopen is
    // checked, and rebased, as a recovery.
    return CheckRecovery(first_sequence, records);
  }
  if (end != recovered_end_) {
    return Violation("idempotent-recovery", std::min(end, recovered_end_) + 1,
                     absl::StrCat("the first recovery ended at ", recovered_end_,
                                  ", the reopen at ", end));
  }
  if (first_sequence != recovered_first_ && !records.empty()) {
    return Violation("idempotent-recovery", std::min(first_sequence, recovered_first_),
                     absl::StrCat("the first recovery started at ", recovered_first_,
                                  ", the reopen at ", first_sequence));
  }
  uint64_t checked_end = 0;
  FAULTLINE_RETURN_IF_ERROR(CheckLog(first_sequence, records, &checked_end));
  if (trace_hooks_.next_event) recovered_event_ = trace_hooks_.next_event();
  ++recoveries_checked_;
  return absl::OkStatus();
}

bool DurabilityChecker::NamesTheDamage(const absl::Status& error) const {
  if (damage_.sequence == 0) return false;
  if (damage_.place_unknown) return absl::IsDataLoss(error) || absl::IsFailedPrecondition(error);
  const std::string_view message(error.message().data(), error.message().size());
  if (message.find(damage_.file) == std::string_view::npos) return false;
  if (absl::IsFailedPrecondition(error)) return damage_.in_version_field;
  if (!absl::IsDataLoss(error)) return false;
  // "offset N" with N exactly the damaged frame's (or header's) start.
  const std::string offset = absl::StrCat("offset ", damage_.offset_bytes);
  for (size_t at = message.find(offset); at != std::string_view::npos;
       at = message.find(offset, at + 1)) {
    const size_t end = at + offset.size();
    if (end == message.size() || message[end] < '0' || message[end] > '9') return true;
  }
  return false;
}

absl::Status DurabilityChecker::CheckRecoveryError(const absl::Status& error) const {
  FAULTLINE_CHECK(!error.ok());
  // After deliberate damage the log may refuse to open — if it says where
  // the damage is, so that an operator can repair it by hand. Other errors,
  // or a refusal that points elsewhere, are not excused.
  if (NamesTheDamage(error)) return absl::OkStatus();
  return Violation(
      "clean-recovery", last_acked_ + 1,
      absl::StrCat("recovery failed (", error.ToString(), ")",
                   damage_.sequence != 0
                       ? absl::StrCat(" after damage to ", damage_.file, " at offset ",
                                      damage_.offset_bytes, " (record ", damage_.sequence,
                                      "), which the error does not name")
                       : std::string(" although no durable record was damaged")),
      LastCrashPointer());
}

}  // namespace faultline::scenarios
