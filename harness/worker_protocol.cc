// harness/worker_protocol.cc — see worker_protocol.h.
#include "harness/worker_protocol.h"

#include <charconv>
#include <vector>

#include "absl/strings/str_cat.h"
#include "harness/split.h"

namespace faultline::harness {
namespace {

constexpr size_t kFieldCount = 11;

template <typename Int>
std::optional<Int> ParseInt(std::string_view text) {
  Int value{};
  auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string EscapeField(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '%') out += "%25";
    else if (c == '\t') out += "%09";
    else if (c == '\n') out += "%0A";
    else if (c == '\r') out += "%0D";
    else if (c == '=') out += "%3D";
    else if (c == ';') out += "%3B";
    else out.push_back(c);
  }
  return out;
}

std::optional<std::string> UnescapeField(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;  // '%' needs two hex digits
    unsigned value = 0;
    auto [ptr, error] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (error != std::errc() || ptr != text.data() + i + 3) return std::nullopt;
    out.push_back(static_cast<char>(value));
    i += 2;
  }
  return out;
}

std::string EncodeResult(const reports::SeedResult& result) {
  std::string faults;
  for (const auto& [kind, count] : result.faults_injected) {
    absl::StrAppend(&faults, faults.empty() ? "" : ";", EscapeField(kind), "=", count);
  }
  std::string enabled;
  for (const std::string& kind : result.faults_enabled) {
    absl::StrAppend(&enabled, enabled.empty() ? "" : ";", EscapeField(kind));
  }
  return absl::StrCat(EscapeField(result.scenario), "\t", result.seed, "\t",
                      result.passed ? 1 : 0, "\t", EscapeField(result.outcome), "\t",
                      EscapeField(result.detail), "\t", result.trace_hash, "\t", result.steps, "\t",
                      result.virtual_time_ns, "\t", result.wall_time_ns, "\t", faults, "\t",
                      enabled);
}

std::optional<reports::SeedResult> DecodeResult(std::string_view line) {
  std::vector<std::string_view> fields = Split(line, '\t');
  if (fields.size() != kFieldCount) return std::nullopt;
  reports::SeedResult result;
  auto scenario = UnescapeField(fields[0]);
  auto seed = ParseInt<uint64_t>(fields[1]);
  auto passed = ParseInt<int>(fields[2]);
  auto outcome = UnescapeField(fields[3]);
  auto detail = UnescapeField(fields[4]);
  auto hash = ParseInt<uint64_t>(fields[5]);
  auto steps = ParseInt<uint64_t>(fields[6]);
  auto virtual_ns = ParseInt<int64_t>(fields[7]);
  auto wall_ns = ParseInt<int64_t>(fields[8]);
  if (!scenario || !seed || !passed || (*passed != 0 && *passed != 1) || !outcome || !detail ||
      !hash || !steps || !virtual_ns || !wall_ns) {
    return std::nullopt;
  }
  result.scenario = *scenario;
  result.seed = *seed;
  result.passed = *passed == 1;
  result.outcome = *outcome;
  result.detail = *detail;
  result.trace_hash = *hash;
  result.steps = *steps;
  result.virtual_time_ns = *virtual_ns;
  result.wall_time_ns = *wall_ns;
  if (!fields[9].empty()) {
    for (std::string_view entry : Split(fields[9], ';')) {
      const size_t equals = entry.find('=');
      if (equals == std::string_view::npos) return std::nullopt;
      auto kind = UnescapeField(entry.substr(0, equals));
      auto count = ParseInt<uint64_t>(entry.substr(equals + 1));
      if (!kind || !count) return std::nullopt;
      result.faults_injected[*kind] = *count;
    }
  }
  if (!fields[10].empty()) {
    for (std::string_view entry : Split(fields[10], ';')) {
      auto kind = UnescapeField(entry);
      if (!kind || kind->empty()) return std::nullopt;
      result.faults_enabled.insert(*kind);
    }
  }
  return result;
}

}  // namespace faultline::harness
