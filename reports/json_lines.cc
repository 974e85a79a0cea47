// reports/json_lines.cc — see json_lines.h.
#include "reports/json_lines.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace faultline::reports {

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        // Bytes >= 0x80 are escaped one by one: the text may not be UTF-8
        // (a corrupt payload in a detail), and the output must stay valid.
        if (c < 0x20 || c >= 0x7F) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out += "\"";
  return out;
}

std::string ToJsonLine(const SeedResult& result) {
  std::string faults = "{";
  for (const auto& [kind, count] : result.faults_injected) {
    absl::StrAppend(&faults, faults.size() > 1 ? "," : "", JsonString(kind), ":", count);
  }
  faults += "}";
  return absl::StrCat(
      "{\"scenario\":", JsonString(result.scenario), ",\"seed\":", JsonString(Hex64(result.seed)),
      ",\"passed\":", result.passed ? "true" : "false", ",\"outcome\":", JsonString(result.outcome),
      ",\"detail\":", JsonString(result.detail), ",\"trace_hash\":",
      JsonString(Hex64(result.trace_hash)), ",\"steps\":", result.steps,
      ",\"virtual_time_ns\":", result.virtual_time_ns, ",\"wall_time_ns\":", result.wall_time_ns,
      ",\"faults_injected\":", faults, ",\"replay\":", JsonString(result.ReplayCommand()), "}");
}

}  // namespace faultline::reports
