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
    trace.Record(t, node, kind, a, b, text);
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
  ab.Record(0, 0, TraceKind::kApp, 1, 0, {});
  ab.Record(0, 0, TraceKind::kApp, 2, 0, {});
  ba.Record(0, 0, TraceKind::kApp, 2, 0, {});
  ba.Record(0, 0, TraceKind::kApp, 1, 0, {});
  EXPECT_NE(ab.hash(), ba.hash());
}

TEST(Trace, RecordingDoesNotChangeTheHash) {
  Trace quiet, recorded;
  recorded.set_recording(true);
  for (Trace* trace : {&quiet, &recorded}) {
    trace->RecordStep(10, 1, 3);
    trace->Record(20, 2, TraceKind::kNetwork, 4, 5, "drop");
    trace->RecordStep(30, 1, 3);
  }
  EXPECT_EQ(quiet.hash(), recorded.hash());
  ASSERT_EQ(recorded.events().size(), 3u);
  EXPECT_EQ(recorded.events()[1].text, "drop");
  EXPECT_EQ(recorded.events()[2].hash_after, recorded.hash());
  EXPECT_NE(recorded.events()[1].Format("n2").find("drop"), std::string::npos);
}

TEST(Trace, FirstDivergenceFindsTheFirstDifferentEvent) {
  Trace a, b;
  a.set_recording(true);
  b.set_recording(true);
  for (int i = 0; i < 5; ++i) {
    a.Record(i, 0, TraceKind::kApp, i, 0, {});
    b.Record(i, 0, TraceKind::kApp, i == 3 ? 99 : i, 0, {});
  }
  EXPECT_EQ(FirstDivergence(a.events(), b.events()), 3u);
  EXPECT_EQ(FirstDivergence(a.events(), a.events()), std::nullopt);
  Trace prefix;
  prefix.set_recording(true);
  prefix.Record(0, 0, TraceKind::kApp, 0, 0, {});
  EXPECT_EQ(FirstDivergence(a.events(), prefix.events()), 1u);
}

}  // namespace
}  // namespace faultline::sim
