// Tests for reports/: JSON lines and JUnit XML stay well-formed whatever the
// detail text holds; failures are worded once and grouped by invariant.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "reports/console_text.h"
#include "reports/failure_summary.h"
#include "reports/json_lines.h"
#include "reports/junit_xml.h"
#include "reports/utf8.h"

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
  EXPECT_THAT(line, HasSubstr(R"("detail":"record \"7\" <lost> & gone\n\u0001\ufffd")"));
  EXPECT_THAT(line, HasSubstr(R"("seed":"0x000000000000002a")"));
  EXPECT_THAT(line, HasSubstr(R"("faults_injected":{"crash":2,"torn-write":1})"));
  EXPECT_THAT(line, HasSubstr(R"("replay":"faultline replay wal_crash --seed 0x000000000000002a)"));
  EXPECT_EQ(JsonString("a\\b\t"), R"("a\\b\t")");
}

TEST(JsonLines, ValidUtf8PassesThroughAndOnlyInvalidBytesAreReplaced) {
  EXPECT_EQ(JsonString("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x92\xBE"),
            "\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x92\xBE\"");  // é, €, 💾 unchanged
  // A lone continuation byte, a truncated sequence, an overlong '/', a UTF-16
  // surrogate and a code point past U+10FFFF: each bad byte is \ufffd.
  EXPECT_EQ(JsonString("a\x80" "b"), R"("a\ufffdb")");
  EXPECT_EQ(JsonString("\xC3"), R"("\ufffd")");
  EXPECT_EQ(JsonString("\xC0\xAF"), R"("\ufffd\ufffd")");
  EXPECT_EQ(JsonString("\xED\xA0\x80"), R"("\ufffd\ufffd\ufffd")");
  EXPECT_EQ(JsonString("\xF4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");
  EXPECT_EQ(JsonString("\x7F\x1B"), R"("\u007f\u001b")");
}

bool IsValidUtf8(std::string_view text) {
  for (size_t pos = 0; pos < text.size();) {
    const size_t length = Utf8SequenceLength(text, pos);
    if (length == 0) return false;
    pos += length;
  }
  return true;
}

RC_GTEST_PROP(JsonLines, AnyBytesGiveValidUtf8WithoutControlCharacters, (std::string text)) {
  const std::string json = JsonString(text);
  RC_ASSERT(IsValidUtf8(json));
  for (unsigned char c : json) RC_ASSERT(c >= 0x20 && c != 0x7F);
  if (IsValidUtf8(text) && text.find_first_of("\"\\") == std::string::npos) {
    bool printable = true;
    for (unsigned char c : text) printable = printable && c >= 0x20 && c != 0x7F;
    if (printable) RC_ASSERT(json == "\"" + text + "\"");  // printable UTF-8 is kept as is
  }
}

TEST(ConsoleText, OneLineWithoutControlBytesAndValidUtf8Kept) {
  EXPECT_EQ(ConsoleText("caf\xC3\xA9 ok"), "caf\xC3\xA9 ok");
  EXPECT_EQ(ConsoleText("a\nb\r\tc"), "a\\nb\\r\\tc");
  EXPECT_EQ(ConsoleText("\x1B[2J\x7F"), "\\x1b[2J\\x7f");
  EXPECT_EQ(ConsoleText("\xC2\x9B" "1m"), "\\xc2\\x9b1m");  // C1 CSI, valid UTF-8 but a control
  EXPECT_EQ(ConsoleText("bad\xFF"), "bad\\xff");
}

TEST(JunitXml, AttributesKeepNewlinesTabsAndCarriageReturns) {
  EXPECT_EQ(XmlAttribute("a\nb\tc\rd"), "a&#10;b&#9;c&#13;d");
  EXPECT_EQ(XmlEscape("caf\xC3\xA9"), "caf\xC3\xA9");  // valid UTF-8 kept
  EXPECT_EQ(XmlEscape("x\xFFy"), "x\xEF\xBF\xBDy");    // an invalid byte becomes U+FFFD
  SeedResult failing = Failing();
  failing.detail = "line one\n\tline two\r";
  EXPECT_THAT(ToJunitXml({failing}), HasSubstr("message=\"line one&#10;&#9;line two&#13;\""));
}

TEST(JunitXml, OneSuitePerScenarioAndEscapedFailures) {
  SeedResult passing;
  passing.scenario = "demo";
  passing.seed = 1;
  passing.passed = true;
  const std::string xml = ToJunitXml({Failing(), passing});
  EXPECT_THAT(xml, HasSubstr(R"(<testsuite name="wal_crash" tests="1" failures="1")"));
  EXPECT_THAT(xml, HasSubstr(R"(<testsuite name="demo" tests="1" failures="0")"));
  EXPECT_THAT(xml, HasSubstr("message=\"record &quot;7&quot; &lt;lost&gt; &amp; gone&#10;?\xEF\xBF\xBD\""));
  EXPECT_THAT(xml, HasSubstr("replay: faultline replay wal_crash --seed 0x000000000000002a"));
  EXPECT_THAT(xml, HasSubstr(R"(<testcase classname="faultline.demo" name="seed 0x0000000000000001")"));
  EXPECT_EQ(xml.find('\x01'), std::string::npos);
}

SeedResult Violated(uint64_t seed, const std::string& detail, uint64_t faults, uint64_t steps) {
  SeedResult result;
  result.scenario = "wal_crash";
  result.seed = seed;
  result.outcome = "violation";
  result.detail = detail;
  result.steps = steps;
  if (faults > 0) result.faults_injected = {{"crash", faults}};
  return result;
}

TEST(FailureSummary, WordsAViolationOnce) {
  const SeedResult result = Violated(
      1, "durability violated: prefix at sequence 9: record 9 lost; faults injected: crash=2", 2, 5);
  EXPECT_EQ(FailureStatement(result), "prefix at sequence 9: record 9 lost");
  EXPECT_EQ(InvariantOf(result), "prefix");
  const std::string block = FailureBlock(result);
  EXPECT_EQ(block.find("violation:"), std::string::npos) << block;
  EXPECT_THAT(block, HasSubstr("  violated: prefix at sequence 9: record 9 lost\n"
                               "  faults injected: crash=2; 5 steps\n"));
  // Free text without the checker's shape is kept whole.
  EXPECT_EQ(InvariantOf(Violated(1, "always fails", 0, 1)), "always fails");
  EXPECT_EQ(InvariantOf(Violated(1, "lost: record 3", 0, 1)), "lost");
}

TEST(FailureSummary, TheTraceEventsAVerdictNamesGetTheirOwnLine) {
  const SeedResult result = Violated(
      1, "durability violated: prefix at sequence 9: record 9 lost; trace events: #17 acknowledged "
         "sequence 9, #25 the crash that lost it; faults injected: crash=2", 2, 5);
  EXPECT_EQ(FailureStatement(result), "prefix at sequence 9: record 9 lost");
  EXPECT_EQ(TraceEventsOf(result), "#17 acknowledged sequence 9, #25 the crash that lost it");
  EXPECT_THAT(FailureBlock(result),
              HasSubstr("  violated: prefix at sequence 9: record 9 lost\n"
                        "  trace events: #17 acknowledged sequence 9, #25 the crash that lost it\n"
                        "  faults injected: crash=2; 5 steps\n"));
  EXPECT_EQ(TraceEventsOf(Violated(1, "durability violated: prefix at sequence 9: x; faults "
                                      "injected: crash=2", 2, 5)), "");
}

TEST(FailureSummary, OtherFailuresGroupByTheirOutcome) {
  SeedResult timeout;
  timeout.outcome = "timeout";
  timeout.detail = "the seed ran past the 60 s wall-clock limit";
  EXPECT_EQ(InvariantOf(timeout), "timeout");
  EXPECT_EQ(FailureStatement(timeout), "timeout: the seed ran past the 60 s wall-clock limit");
}

TEST(FailureSummary, GroupsByInvariantAndPicksTheSimplestSeed) {
  std::vector<SeedResult> results = {
      Violated(0, "durability violated: prefix at sequence 1: x", 3, 10),
      Violated(1, "durability violated: no-corrupt at sequence 2: y", 1, 50),
      Violated(2, "durability violated: prefix at sequence 4: z", 1, 90),
      Violated(3, "durability violated: prefix at sequence 3: w", 1, 40),
      Violated(4, "durability violated: prefix at sequence 3: w", 1, 40),  // a tie: first wins
  };
  results.push_back(SeedResult{.scenario = "wal_crash", .seed = 5, .passed = true});
  const std::vector<FailureGroup> groups = GroupFailures(results);
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].invariant, "prefix");  // most seeds first
  EXPECT_EQ(groups[0].seeds.size(), 4u);
  EXPECT_EQ(groups[0].simplest->seed, 3u);  // fewest faults, then fewest steps
  EXPECT_EQ(groups[1].invariant, "no-corrupt");
  EXPECT_EQ(groups[1].simplest->seed, 1u);
  const std::string text = FailureGroupsText(groups, 2);
  EXPECT_THAT(text, HasSubstr("prefix: 4 failing seeds (wal_crash 0x0000000000000000, "
                              "0x0000000000000002 and 2 more)"));
  EXPECT_THAT(text, HasSubstr("replay: faultline replay wal_crash --seed 0x0000000000000003"));
}

}  // namespace
}  // namespace faultline::reports
