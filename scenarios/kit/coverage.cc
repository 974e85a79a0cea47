// scenarios/kit/coverage.cc — see coverage.h.
#include "scenarios/kit/coverage.h"

#include "absl/strings/str_cat.h"

namespace faultline::scenarios::kit {

uint64_t FaultCoverage::Count(std::string_view kind, uint64_t n) {
  auto it = counts_.find(kind);
  if (it == counts_.end()) it = counts_.emplace(std::string(kind), 0).first;
  it->second += n;
  return it->second;
}

uint64_t FaultCoverage::count(std::string_view kind) const {
  const auto it = counts_.find(kind);
  return it == counts_.end() ? 0 : it->second;
}

std::map<std::string, uint64_t> FaultCoverage::Snapshot() const {
  std::map<std::string, uint64_t> snapshot;
  for (const auto& [kind, n] : counts_) {
    if (n > 0) snapshot.emplace(kind, n);
  }
  if (disk_ != nullptr) {
    const sim::disk::FaultStats& stats = disk_->stats();
    for (size_t k = 0; k < sim::disk::kFaultKindCount; ++k) {
      const auto kind = static_cast<sim::disk::FaultKind>(k);
      if (kind == sim::disk::FaultKind::kLatency) continue;  // a delay, not a fault
      if (stats.count(kind) > 0) snapshot[std::string(sim::disk::FaultKindName(kind))] = stats.count(kind);
    }
  }
  if (network_ != nullptr) {
    const sim::net::NetFaultStats& stats = network_->fault_stats();
    for (size_t k = 0; k < sim::net::kNetFaultKindCount; ++k) {
      const auto kind = static_cast<sim::net::NetFaultKind>(k);
      if (stats.count(kind) > 0) snapshot[std::string(sim::net::NetFaultKindName(kind))] = stats.count(kind);
    }
  }
  return snapshot;
}

std::string FaultCoverage::Summary() const {
  std::string out;
  for (const auto& [kind, n] : Snapshot()) absl::StrAppend(&out, out.empty() ? "" : " ", kind, "=", n);
  return out;
}

}  // namespace faultline::scenarios::kit
