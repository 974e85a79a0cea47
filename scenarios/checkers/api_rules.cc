// scenarios/checkers/api_rules.cc — see api_rules.h.
#include "scenarios/checkers/api_rules.h"

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"

namespace faultline::scenarios {

absl::Status ApiRules::Violation(std::string_view rule, uint64_t sequence,
                                 std::string_view detail) const {
  std::string faults = faults_so_far_ ? faults_so_far_() : std::string();
  if (faults.empty()) faults = "none";
  return absl::InternalError(absl::StrCat("durability violated: ", AsAbsl(rule), " at sequence ",
                                          sequence, ": ", AsAbsl(detail),
                                          "; faults injected: ", faults));
}

absl::Status ApiRules::FutureResolved(uint64_t last, uint64_t value, uint64_t durable,
                                      bool earlier_resolved) const {
  if (value != last) {
    return Violation("durable-value", last,
                     absl::StrCat("the durability future resolved to ", value,
                                  ", not to the call's last sequence"));
  }
  if (durable < last) {
    return Violation("durable-covers", last,
                     absl::StrCat("its durability future resolved while durable_sequence() was ",
                                  durable));
  }
  if (!earlier_resolved) {
    return Violation("future-order", last,
                     "its durability future resolved before that of an earlier record");
  }
  return absl::OkStatus();
}

absl::Status ApiRules::DurableMoved(uint64_t durable_before, uint64_t durable_now,
                                    uint64_t last_now) const {
  if (durable_now < durable_before) {
    return Violation("durable-monotone", durable_now,
                     absl::StrCat("durable_sequence() went back from ", durable_before));
  }
  if (durable_now > last_now) {
    return Violation("durable-monotone", durable_now,
                     absl::StrCat("durable_sequence() is past last_sequence() ", last_now));
  }
  return absl::OkStatus();
}

absl::Status ApiRules::BatchAssigned(uint64_t first, uint64_t last, uint64_t count) const {
  if (last < first || last - first + 1 != count) {
    return Violation("batch-consecutive", first,
                     absl::StrCat("AppendBatch of ", count, " records was assigned [", first, ", ",
                                  last, "]"));
  }
  return absl::OkStatus();
}

absl::Status ApiRules::Flushed(std::string_view call, const absl::Status& status,
                               uint64_t last_before, uint64_t durable_after) const {
  if (!status.ok() || durable_after >= last_before) return absl::OkStatus();
  return Violation(call == "Close" ? "close-flushes" : "flush-durable", durable_after + 1,
                   absl::StrCat(AsAbsl(call), "() returned OK, but durable_sequence() is ",
                                durable_after, " although ", last_before,
                                " was appended before the call"));
}

absl::Status ApiRules::AfterClose(std::string_view call, const absl::Status& status) const {
  if (absl::IsFailedPrecondition(status)) return absl::OkStatus();
  return Violation("closed-refuses", 0,
                   absl::StrCat(AsAbsl(call), " after Close() returned ", status.ToString(),
                                " instead of FailedPrecondition"));
}

absl::Status ApiRules::FutureFailed(uint64_t sequence, const absl::Status& error,
                                    const absl::Status& health) const {
  if (absl::IsCancelled(error) || !health.ok()) return absl::OkStatus();
  return Violation("fail-stop-health", sequence,
                   absl::StrCat("its durability future failed (", error.ToString(),
                                ") while health() says OK"));
}

absl::Status ApiRules::AppendAfterFailure(const absl::Status& health_before,
                                          const absl::Status& status) const {
  if (health_before.ok() || absl::IsFailedPrecondition(status)) return absl::OkStatus();
  return Violation("fail-stop-health", 0,
                   absl::StrCat("Append returned ", status.ToString(), " after the log stopped (",
                                health_before.ToString(), ")"));
}

absl::Status ApiRules::ReaderReturned(uint64_t sequence, uint64_t expected,
                                      uint64_t durable_now) const {
  if (sequence != expected) {
    return Violation("reader-order", sequence,
                     absl::StrCat("a reader returned it where ", expected, " was next"));
  }
  if (sequence > durable_now) {
    return Violation("reader-durable", sequence,
                     absl::StrCat("a reader returned it while durable_sequence() was ",
                                  durable_now));
  }
  return absl::OkStatus();
}

absl::Status ApiRules::NewReaderAnswered(uint64_t from, uint64_t first, uint64_t durable,
                                         const absl::Status& status) const {
  const bool below = from < first;
  const bool above = from > durable + 1;
  const bool right = below ? absl::IsNotFound(status)
                   : above ? absl::IsOutOfRange(status)
                           : status.ok();
  if (right) return absl::OkStatus();
  return Violation("reader-range", from,
                   absl::StrCat("NewReader returned ", status.ToString(), " while the log holds [",
                                first, ", ", durable, "]"));
}

absl::Status ApiRules::Opened(uint64_t first, uint64_t durable, uint64_t last, uint64_t count,
                              uint64_t read_end) const {
  if (durable != last) {
    return Violation("open-reads-back", durable,
                     absl::StrCat("after Open durable_sequence() is ", durable,
                                  " but last_sequence() is ", last));
  }
  if (read_end != durable || (count > 0 && read_end - count + 1 != first)) {
    return Violation("open-reads-back", first,
                     absl::StrCat("after Open the log holds [", first, ", ", durable,
                                  "] but a reader from its start returned ", count,
                                  " records ending at ", read_end));
  }
  return absl::OkStatus();
}

absl::Status ApiRules::Released(uint64_t below, uint64_t first_before,
                                uint64_t first_after) const {
  if (first_after < first_before) {
    return Violation("release-bound", first_after,
                     absl::StrCat("first_sequence() went back from ", first_before));
  }
  if (first_after > first_before && first_after > below) {
    return Violation("release-bound", below,
                     absl::StrCat("Release(", below, ") moved first_sequence() to ", first_after));
  }
  return absl::OkStatus();
}

}  // namespace faultline::scenarios
