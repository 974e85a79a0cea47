// reports/junit_xml.h — a sweep as a JUnit XML report, for CI dashboards.
//
// One <testsuite> per scenario, one <testcase> per seed (named by its hex
// seed); a failing seed carries a <failure> whose message is the violated
// invariant and whose body holds the faults, trace hash and replay command.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "reports/seed_result.h"

namespace faultline::reports {

// `text` escaped for XML character data. Valid UTF-8 passes through; a
// character XML 1.0 cannot represent (most control characters, U+FFFE,
// U+FFFF) becomes '?'; a byte that is not part of valid UTF-8 becomes U+FFFD.
std::string XmlEscape(std::string_view text);

// The same for an attribute value, where a parser would turn a raw newline,
// tab or carriage return into a space: they are written &#10; &#9; &#13;.
std::string XmlAttribute(std::string_view text);

// The whole document. `results` may mix scenarios; suites appear in order of
// first appearance, cases in the order given. Seeds a sweep never ran (a
// time budget spent) are a last suite, "not run", of that many skipped
// tests, with `why_not_run`: the report never reads as a complete sweep.
std::string ToJunitXml(const std::vector<SeedResult>& results, uint64_t seeds_not_run = 0,
                       std::string_view why_not_run = "");

}  // namespace faultline::reports
