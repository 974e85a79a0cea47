// reports/json_lines.cc — see json_lines.h.
#include "reports/json_lines.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "reports/utf8.h"

namespace faultline::reports {

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  ForEachUtf8Unit(text, [&out](const Utf8Unit& unit) {
    if (!unit.valid) {
      out += "\\ufffd";  // not UTF-8 (a corrupt payload in a detail): one per byte
      return;
    }
    if (unit.bytes.size() > 1) {
      out.append(unit.bytes);
      return;
    }
    const unsigned char c = static_cast<unsigned char>(unit.bytes[0]);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += absl::StrFormat("\\u%04x", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  });
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
