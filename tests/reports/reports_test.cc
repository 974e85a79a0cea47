// Tests for reports/: JSON lines and JUnit XML stay well-formed whatever the
// detail text holds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "reports/json_lines.h"
#include "reports/junit_xml.h"

namespace faultline::reports {
namespace {

using ::testing::HasSubstr;

SeedResult Failing() {
  SeedResult result;
  result.scenario = "wal_crash";
  result.seed = 0x2a;
  result.outcome = "violation";
  result.detail = "record \"7\" <lost> & gone\n\x01\xff";
  result.trace_hash = 0xabc;
  result.faults_injected = {{"crash", 2}, {"torn-write", 1}};
  return result;
}

TEST(JsonLines, EscapesEverythingThatWouldBreakALine) {
  const std::string line = ToJsonLine(Failing());
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_THAT(line, HasSubstr(R"("detail":"record \"7\" <lost> & gone\n\u0001\u00ff")"));
  EXPECT_THAT(line, HasSubstr(R"("seed":"0x000000000000002a")"));
  EXPECT_THAT(line, HasSubstr(R"("faults_injected":{"crash":2,"torn-write":1})"));
  EXPECT_THAT(line, HasSubstr(R"("replay":"faultline replay wal_crash --seed 0x000000000000002a)"));
  EXPECT_EQ(JsonString("a\\b\t"), R"("a\\b\t")");
}

TEST(JunitXml, OneSuitePerScenarioAndEscapedFailures) {
  SeedResult passing;
  passing.scenario = "demo";
  passing.seed = 1;
  passing.passed = true;
  const std::string xml = ToJunitXml({Failing(), passing});
  EXPECT_THAT(xml, HasSubstr(R"(<testsuite name="wal_crash" tests="1" failures="1")"));
  EXPECT_THAT(xml, HasSubstr(R"(<testsuite name="demo" tests="1" failures="0")"));
  EXPECT_THAT(xml, HasSubstr("message=\"record &quot;7&quot; &lt;lost&gt; &amp; gone\n??\""));
  EXPECT_THAT(xml, HasSubstr("replay: faultline replay wal_crash --seed 0x000000000000002a"));
  EXPECT_THAT(xml, HasSubstr(R"(<testcase classname="faultline.demo" name="seed 0x0000000000000001")"));
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
}

}  // namespace
}  // namespace faultline::reports
