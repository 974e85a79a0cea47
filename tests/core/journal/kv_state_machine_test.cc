// tests/core/journal/kv_state_machine_test.cc — the reusable KV state
// machine: records, snapshot round trips under any chunking, and refusal of
// malformed snapshot bodies.
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "core/journal/kv_state_machine.h"

namespace faultline::journal {
namespace {

class StringSink final : public SnapshotSink {
 public:
  absl::Status Write(std::string_view bytes) override {
    out.append(bytes.data(), bytes.size());
    return absl::OkStatus();
  }
  std::string out;
};

std::string SnapshotOf(const KvStateMachine& machine) {
  StringSink sink;
  EXPECT_TRUE(machine.WriteSnapshot(sink).ok());
  return sink.out;
}

absl::Status RestoreInPieces(KvStateMachine& machine, const std::string& body, size_t piece) {
  machine.Clear();
  for (size_t at = 0; at < body.size(); at += piece) {
    absl::Status status = machine.RestoreChunk(std::string_view(body).substr(at, piece));
    if (!status.ok()) return status;
  }
  return machine.FinishRestore();
}

TEST(KvStateMachine, AppliesPutsAndDeletes) {
  KvStateMachine machine;
  ASSERT_TRUE(machine.Apply(1, KvStateMachine::EncodePut("a", "1")).ok());
  ASSERT_TRUE(machine.Apply(2, KvStateMachine::EncodePut("b", "")).ok());
  ASSERT_TRUE(machine.Apply(3, KvStateMachine::EncodePut("a", "2")).ok());
  ASSERT_TRUE(machine.Apply(4, KvStateMachine::EncodeDelete("b")).ok());
  ASSERT_TRUE(machine.Apply(5, KvStateMachine::EncodeDelete("missing")).ok());
  EXPECT_EQ(machine.entries(), (std::map<std::string, std::string>{{"a", "2"}}));
}

TEST(KvStateMachine, RefusesMalformedRecords) {
  KvStateMachine machine;
  EXPECT_FALSE(machine.Validate("").ok());
  EXPECT_FALSE(machine.Validate(std::string("\x03\x01\0\0\0k", 6)).ok());   // unknown op
  EXPECT_FALSE(machine.Validate(std::string("\x01\x09\0\0\0k", 6)).ok());   // key past the end
  EXPECT_FALSE(machine.Validate(std::string("\x01\0\0\0\0", 5)).ok());      // empty key
  EXPECT_FALSE(machine.Validate(KvStateMachine::EncodeDelete("k") + "v").ok());
  EXPECT_FALSE(machine.Apply(1, "x").ok());
  EXPECT_TRUE(machine.entries().empty());
}

TEST(KvStateMachine, RefusesMalformedSnapshots) {
  KvStateMachine machine;
  ASSERT_TRUE(machine.Apply(1, KvStateMachine::EncodePut("a", "1")).ok());
  ASSERT_TRUE(machine.Apply(2, KvStateMachine::EncodePut("b", "2")).ok());
  const std::string body = SnapshotOf(machine);
  KvStateMachine restored;
  EXPECT_TRUE(RestoreInPieces(restored, body, 3).ok());
  EXPECT_EQ(restored.entries(), machine.entries());
  EXPECT_FALSE(RestoreInPieces(restored, body.substr(0, body.size() - 1), 5).ok());  // short
  EXPECT_FALSE(RestoreInPieces(restored, body + "x", 5).ok());                        // long
  std::string swapped = body;  // keys out of order: "b" then "a"
  std::swap(swapped[16], swapped[26]);
  EXPECT_FALSE(RestoreInPieces(restored, swapped, 7).ok());
  std::string huge = body;  // a key length past the limit
  huge[8] = '\xff';
  huge[9] = '\xff';
  EXPECT_FALSE(RestoreInPieces(restored, huge, 4).ok());
  EXPECT_FALSE(RestoreInPieces(restored, "", 4).ok());  // no count
}

RC_GTEST_PROP(KvStateMachine, SnapshotRoundTripsUnderAnyChunking,
              (const std::vector<std::pair<std::string, std::string>>& puts,
               const std::vector<std::string>& deletes)) {
  KvStateMachine machine;
  uint64_t sequence = 0;
  for (const auto& [key, value] : puts) {
    if (key.empty() || key.size() > KvStateMachine::kMaxKeyBytes) continue;
    RC_ASSERT(machine.Apply(++sequence, KvStateMachine::EncodePut(key, value)).ok());
  }
  for (const std::string& key : deletes) {
    if (key.empty() || key.size() > KvStateMachine::kMaxKeyBytes) continue;
    RC_ASSERT(machine.Apply(++sequence, KvStateMachine::EncodeDelete(key)).ok());
  }
  const std::string body = SnapshotOf(machine);
  const size_t piece = *rc::gen::inRange<size_t>(1, body.size() + 2);
  KvStateMachine restored;
  RC_ASSERT(RestoreInPieces(restored, body, piece).ok());
  RC_ASSERT(restored.entries() == machine.entries());
}

}  // namespace
}  // namespace faultline::journal
