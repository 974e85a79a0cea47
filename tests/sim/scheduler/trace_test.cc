// Tests for sim/scheduler/trace: the hash is a pure function of the events,
// recording does not change it, and divergence is located.
#include "sim/scheduler/trace.h"

#include <gtest/gtest.h>

namespace faultline::sim {
namespace {

TEST(Trace, HashDependsOnEveryField) {
  auto hash_of = [](int64_t t, uint32_t node, TraceKind kind, uint64_t a, uint64_t b,
                    std::string_view text) {
    Trace trace;
    trace.Record(t, node, kind, {"a", a}, {"b", b}, text);
    return trace.hash();
  };
  const uint64_t base = hash_of(5, 1, TraceKind::kDisk, 2, 3, "x");
  EXPECT_EQ(base, hash_of(5, 1, TraceKind::kDisk, 2, 3, "x"));
  EXPECT_NE(base, hash_of(6, 1, TraceKind::kDisk, 2, 3, "x"));
  EXPECT_NE(base, hash_of(5, 2, TraceKind::kDisk, 2, 3, "x"));
  EXPECT_NE(base, hash_of(5, 1, TraceKind::kFault, 2, 3, "x"));
  EXPECT_NE(base, hash_of(5, 1, TraceKind::kDisk, 9, 3, "x"));
  EXPECT_NE(base, hash_of(5, 1, TraceKind::kDisk, 2, 9, "x"));
  EXPECT_NE(base, hash_of(5, 1, TraceKind::kDisk, 2, 3, "y"));
}

TEST(Trace, OrderMatters) {
  Trace ab, ba;
  ab.Record(0, 0, TraceKind::kApp, {"n", 1}, {}, {});
  ab.Record(0, 0, TraceKind::kApp, {"n", 2}, {}, {});
  ba.Record(0, 0, TraceKind::kApp, {"n", 2}, {}, {});
  ba.Record(0, 0, TraceKind::kApp, {"n", 1}, {}, {});
  EXPECT_NE(ab.hash(), ba.hash());
}

TEST(Trace, RecordingDoesNotChangeTheHash) {
  Trace quiet, recorded;
  recorded.set_recording(true);
  for (Trace* trace : {&quiet, &recorded}) {
    trace->RecordStep(10, 1, 3);
    trace->Record(20, 2, TraceKind::kNetwork, {"from", 4}, {"to", 5}, "drop");
    trace->RecordStep(30, 1, 3);
  }
  EXPECT_EQ(quiet.hash(), recorded.hash());
  ASSERT_EQ(recorded.events().size(), 3u);
  EXPECT_EQ(recorded.events()[1].text, "drop");
  EXPECT_EQ(recorded.events()[2].hash_after, recorded.hash());
  EXPECT_NE(recorded.events()[1].Format("n2").find("drop"), std::string::npos);
}

TEST(Trace, FieldsPrintByNameAndNamesAreNotHashed) {
  Trace named, renamed;
  named.set_recording(true);
  named.Record(7, 1, TraceKind::kCheck, {"durable", 728}, {"issued", 729}, "acknowledged");
  renamed.Record(7, 1, TraceKind::kCheck, {"x", 728}, {"y", 729}, "acknowledged");
  EXPECT_EQ(named.hash(), renamed.hash());
  const std::string line = named.events()[0].Format("n1");
  EXPECT_NE(line.find(" durable=728 issued=729  acknowledged"), std::string::npos) << line;
  EXPECT_EQ(line.find("a="), std::string::npos) << line;

  Trace one_field;
  one_field.set_recording(true);
  one_field.Record(0, 0, TraceKind::kDisk, {"node", 1}, {}, "disk unstuck");
  EXPECT_EQ(one_field.events()[0].Format("sim").find("=0"), std::string::npos);
}

TEST(Trace, AnEventPrintsOnOneLineWhateverItsText) {
  // A violation's text comes from the code under test: a newline in it made
  // a second line that `--trace` filters kept whatever the node or kind
  // asked for, and escape bytes reached the terminal raw.
  Trace trace;
  trace.set_recording(true);
  trace.Record(5, 1, TraceKind::kCheck, {"violated", 1}, {},
               "lost\n#99      [     9.000000000s] n2       crash forged\x1b[31m\x7f");
  const std::string line = trace.events()[0].Format("n1");
  EXPECT_EQ(line.find_first_of("\n\r\x1b\x7f"), std::string::npos) << line;
  EXPECT_NE(line.find("lost\\n#99"), std::string::npos) << line;
  EXPECT_NE(line.find("forged\\x1b[31m\\x7f"), std::string::npos) << line;
}

std::string_view ColourName(uint64_t value) { return value == 1 ? "red" : "?"; }

TEST(Trace, AFieldWithAValueNamerPrintsTheNameAndHashesTheNumber) {
  Trace named, plain;
  named.set_recording(true);
  named.Record(0, 1, TraceKind::kFault, {"kind", 1, ColourName}, {"count", 2}, "x");
  plain.Record(0, 1, TraceKind::kFault, {"kind", 1}, {"count", 2}, "x");
  EXPECT_EQ(named.hash(), plain.hash());
  const std::string line = named.events()[0].Format("n1");
  EXPECT_NE(line.find(" kind=red count=2  x"), std::string::npos) << line;
}

TEST(Trace, RemembersWhereEachNodeCrashed) {
  Trace trace;  // not recording: crash indexes are kept all the same
  trace.RecordStep(0, 1, 1);                                          // #0
  trace.Record(0, 1, TraceKind::kCrash, {"incarnation", 1}, {}, "x");  // #1
  trace.Record(0, 2, TraceKind::kCrash, {"incarnation", 1}, {}, "x");  // #2
  trace.Record(0, 1, TraceKind::kDisk, {}, {}, "not a crash");         // #3
  trace.Record(0, 1, TraceKind::kCrash, {"incarnation", 2}, {}, "x");  // #4
  EXPECT_EQ(trace.CrashesSince(1, 0), (std::vector<uint64_t>{1, 4}));
  EXPECT_EQ(trace.CrashesSince(1, 1), (std::vector<uint64_t>{4}));
  EXPECT_EQ(trace.CrashesSince(2, 0), (std::vector<uint64_t>{2}));
  EXPECT_TRUE(trace.CrashesSince(1, 4).empty());
}

TEST(Trace, FirstDivergenceFindsTheFirstDifferentEvent) {
  Trace a, b;
  a.set_recording(true);
  b.set_recording(true);
  for (int i = 0; i < 5; ++i) {
    a.Record(i, 0, TraceKind::kApp, {"n", static_cast<uint64_t>(i)}, {}, {});
    b.Record(i, 0, TraceKind::kApp, {"n", static_cast<uint64_t>(i == 3 ? 99 : i)}, {}, {});
  }
  EXPECT_EQ(FirstDivergence(a.events(), b.events()), 3u);
  EXPECT_EQ(FirstDivergence(a.events(), a.events()), std::nullopt);
  Trace prefix;
  prefix.set_recording(true);
  prefix.Record(0, 0, TraceKind::kApp, {"n", 0}, {}, {});
  EXPECT_EQ(FirstDivergence(a.events(), prefix.events()), 1u);
}

}  // namespace
}  // namespace faultline::sim
