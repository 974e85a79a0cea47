// reports/junit_xml.cc — see junit_xml.h.
#include "reports/junit_xml.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "reports/utf8.h"

namespace faultline::reports {

namespace {

std::string Escape(std::string_view text, bool attribute) {
  std::string out;
  ForEachUtf8Unit(text, [&out, attribute](const Utf8Unit& unit) {
    if (!unit.valid) {
      out += kUtf8Replacement;
      return;
    }
    if (unit.bytes.size() > 1) {
      if (unit.code_point == 0xFFFE || unit.code_point == 0xFFFF) {
        out.push_back('?');
      } else {
        out.append(unit.bytes);
      }
      return;
    }
    const unsigned char c = static_cast<unsigned char>(unit.bytes[0]);
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else if (c == '"') {
      out += "&quot;";
    } else if (c == '\'') {
      out += "&apos;";
    } else if (c == '\n' || c == '\t' || c == '\r') {
      if (attribute) {
        absl::StrAppend(&out, "&#", static_cast<int>(c), ";");
      } else {
        out.push_back(static_cast<char>(c));
      }
    } else if (c < 0x20) {
      out.push_back('?');
    } else {
      out.push_back(static_cast<char>(c));
    }
  });
  return out;
}

}  // namespace

std::string XmlEscape(std::string_view text) { return Escape(text, /*attribute=*/false); }

std::string XmlAttribute(std::string_view text) { return Escape(text, /*attribute=*/true); }

std::string ToJunitXml(const std::vector<SeedResult>& results, uint64_t seeds_not_run,
                       std::string_view why_not_run) {
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
                          XmlAttribute(scenario), cases.size(), failures, wall_ns / 1e9);
    for (const SeedResult* result : cases) {
      absl::StrAppendFormat(&xml, "    <testcase classname=\"faultline.%s\" name=\"seed %s\" time=\"%.6f\"",
                            XmlAttribute(scenario), Hex64(result->seed), result->wall_time_ns / 1e9);
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
          XmlAttribute(result->detail), XmlAttribute(result->outcome),
          XmlEscape(faults.empty() ? "none" : faults), Hex64(result->trace_hash),
          XmlEscape(result->ReplayCommand()));
    }
    xml += "  </testsuite>\n";
  }
  if (seeds_not_run > 0) {
    // One case for them all: a sweep may leave millions unrun.
    absl::StrAppendFormat(
        &xml,
        "  <testsuite name=\"not run\" tests=\"%d\" failures=\"0\" skipped=\"%d\" time=\"0\">\n"
        "    <testcase classname=\"faultline\" name=\"seeds not run\" time=\"0\">\n"
        "      <skipped message=\"%d seeds not run: %s\"/>\n    </testcase>\n  </testsuite>\n",
        seeds_not_run, seeds_not_run, seeds_not_run, XmlAttribute(why_not_run));
  }
  xml += "</testsuites>\n";
  return xml;
}

}  // namespace faultline::reports
