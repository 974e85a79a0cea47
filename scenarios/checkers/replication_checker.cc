// scenarios/checkers/replication_checker.cc — see replication_checker.h.
#include "scenarios/checkers/replication_checker.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/check.h"

namespace faultline::scenarios::checkers {

ReplicationChecker::ReplicationChecker(std::vector<std::string> names)
    : names_(std::move(names)),
      claims_(names_.size(), 0),
      next_apply_(names_.size(), 1),
      applied_(names_.size()) {
  FAULTLINE_CHECK(names_.size() >= 2);
}

absl::Status ReplicationChecker::OnRecovered(int replica, uint64_t durable) {
  const std::string& name = names_[replica];
  if (durable < claims_[replica]) {
    return absl::InternalError(absl::StrCat(name, " recovered its log through ", durable,
                                            " but had claimed ", claims_[replica], " durable"));
  }
  claims_[replica] = durable;
  next_apply_[replica] = durable + 1;
  return CheckMajorityHolds();
}

void ReplicationChecker::OnDurableClaim(int replica, uint64_t durable) {
  claims_[replica] = std::max(claims_[replica], durable);
}

absl::Status ReplicationChecker::OnApply(int replica, uint64_t sequence,
                                         std::string_view payload) {
  const std::string& name = names_[replica];
  ++applies_;
  if (sequence != next_apply_[replica]) {
    return absl::InternalError(absl::StrCat(
        "gap-free apply: ", name, " applied sequence ", sequence, " where ",
        next_apply_[replica], " was due (",
        sequence < next_apply_[replica] ? "a repeat" : "a gap", ")"));
  }
  next_apply_[replica] = sequence + 1;
  auto [it, inserted] = applied_[replica].try_emplace(sequence, payload);
  if (!inserted && it->second != payload) {
    return absl::InternalError(absl::StrCat("gap-free apply: ", name, " applied sequence ",
                                            sequence, " again with other bytes"));
  }
  const auto committed = committed_.find(sequence);
  if (committed != committed_.end() && committed->second != payload) {
    return absl::InternalError(absl::StrCat("byte equality: ", name, " applied sequence ",
                                            sequence, " with bytes other than the committed entry's"));
  }
  return absl::OkStatus();
}

absl::Status ReplicationChecker::OnCommitted(uint64_t sequence, std::string_view payload) {
  auto [it, inserted] = committed_.try_emplace(sequence, payload);
  if (!inserted && it->second != payload) {
    return absl::InternalError(
        absl::StrCat("committed never lost: sequence ", sequence,
                     " was reported committed twice with different bytes"));
  }
  committed_through_ = std::max(committed_through_, sequence);
  for (size_t r = 1; r < applied_.size(); ++r) {
    const auto applied = applied_[r].find(sequence);
    if (applied != applied_[r].end() && applied->second != payload) {
      return absl::InternalError(absl::StrCat("byte equality: committed sequence ", sequence,
                                              " differs from what ", names_[r], " applied there"));
    }
  }
  return CheckMajorityHolds();
}

absl::Status ReplicationChecker::CheckMajorityHolds() const {
  if (committed_through_ == 0) return absl::OkStatus();
  std::vector<uint64_t> sorted = claims_;
  std::sort(sorted.begin(), sorted.end(), std::greater<>());
  const size_t majority = sorted.size() / 2 + 1;
  const uint64_t held = sorted[majority - 1];
  if (held >= committed_through_) return absl::OkStatus();
  std::string claims;
  for (size_t r = 0; r < claims_.size(); ++r) {
    absl::StrAppend(&claims, r == 0 ? "" : ", ", names_[r], " ", claims_[r]);
  }
  return absl::InternalError(absl::StrCat(
      "committed never lost: sequence ", committed_through_,
      " was reported committed but a majority's logs hold only through ", held,
      " (durable claims: ", claims, ")"));
}

absl::Status ReplicationChecker::CheckFinalLogs(
    const std::vector<std::vector<std::string>>& logs) const {
  FAULTLINE_CHECK(logs.size() == names_.size());
  const std::vector<std::string>& leader = logs[0];
  for (const auto& [sequence, payload] : committed_) {
    for (size_t r = 0; r < logs.size(); ++r) {
      if (logs[r].size() < sequence) {
        return absl::InternalError(absl::StrCat("committed never lost: ", names_[r],
                                                " lacks committed sequence ", sequence,
                                                " after the heal (holds ", logs[r].size(), ")"));
      }
      if (logs[r][sequence - 1] != payload) {
        return absl::InternalError(absl::StrCat("committed never lost: ", names_[r],
                                                " holds other bytes at committed sequence ",
                                                sequence));
      }
    }
  }
  for (size_t r = 1; r < logs.size(); ++r) {
    if (logs[r].size() > leader.size()) {
      return absl::InternalError(absl::StrCat("byte equality: ", names_[r], " holds ",
                                              logs[r].size(), " entries, the leader ",
                                              leader.size()));
    }
    for (size_t i = 0; i < logs[r].size(); ++i) {
      if (logs[r][i] != leader[i]) {
        return absl::InternalError(absl::StrCat("byte equality: ", names_[r], " at sequence ",
                                                i + 1, " differs from the leader's entry"));
      }
    }
    for (const auto& [sequence, payload] : applied_[r]) {
      if (sequence > leader.size() || leader[sequence - 1] != payload) {
        return absl::InternalError(absl::StrCat("byte equality: ", names_[r],
                                                " applied sequence ", sequence,
                                                " with bytes other than the leader's entry"));
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace faultline::scenarios::checkers
