// reports/junit_xml.cc — see junit_xml.h.
#include "reports/junit_xml.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace faultline::reports {

std::string XmlEscape(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default:
        if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
          out.push_back('?');
        } else if (c >= 0x80) {
          out.push_back('?');  // may not be valid UTF-8
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out;
}

std::string ToJunitXml(const std::vector<SeedResult>& results) {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const SeedResult*>> by_scenario;
  for (const SeedResult& result : results) {
    auto [it, inserted] = by_scenario.try_emplace(result.scenario);
    if (inserted) order.push_back(result.scenario);
    it->second.push_back(&result);
  }
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  for (const std::string& scenario : order) {
    const auto& cases = by_scenario[scenario];
    size_t failures = 0;
    int64_t wall_ns = 0;
    for (const SeedResult* result : cases) {
      failures += result->passed ? 0 : 1;
      wall_ns += result->wall_time_ns;
    }
    absl::StrAppendFormat(&xml, "  <testsuite name=\"%s\" tests=\"%d\" failures=\"%d\" time=\"%.6f\">\n",
                          XmlEscape(scenario), cases.size(), failures, wall_ns / 1e9);
    for (const SeedResult* result : cases) {
      absl::StrAppendFormat(&xml, "    <testcase classname=\"faultline.%s\" name=\"seed %s\" time=\"%.6f\"",
                            XmlEscape(scenario), Hex64(result->seed), result->wall_time_ns / 1e9);
      if (result->passed) {
        xml += "/>\n";
        continue;
      }
      std::string faults;
      for (const auto& [kind, count] : result->faults_injected) {
        absl::StrAppend(&faults, faults.empty() ? "" : " ", kind, "=", count);
      }
      absl::StrAppendFormat(
          &xml,
          ">\n      <failure message=\"%s\" type=\"%s\">faults injected: %s\ntrace hash: %s\n"
          "replay: %s</failure>\n    </testcase>\n",
          XmlEscape(result->detail), XmlEscape(result->outcome),
          XmlEscape(faults.empty() ? "none" : faults), Hex64(result->trace_hash),
          XmlEscape(result->ReplayCommand()));
    }
    xml += "  </testsuite>\n";
  }
  xml += "</testsuites>\n";
  return xml;
}

}  // namespace faultline::reports
