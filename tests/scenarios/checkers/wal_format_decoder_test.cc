// tests/scenarios/checkers/wal_format_decoder_test.cc — the independent
// decoder of the WAL's format: it agrees with the WAL's own encoder on
// valid logs, refuses what FORMAT.md forbids, and shares no code with
// core/ (its sources include nothing of it).
#include "scenarios/checkers/wal_format_decoder.h"

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "core/wal/format.h"

namespace faultline::scenarios {
namespace {

namespace format = wal::format;

std::map<std::string, std::string> TwoSegments() {
  std::string first = format::EncodeSegmentHeader(5, 0x1234u);
  format::AppendFrame(&first, 5, 0, "alpha", 0x1234u);
  format::AppendFrame(&first, 6, 5, "beta", 0x1234u);
  std::string second = format::EncodeSegmentHeader(7, 0xabcdu);
  format::AppendFrame(&second, 7, 6, "gamma", 0xabcdu);
  return {{format::SegmentName(5), first}, {format::SegmentName(7), second}};
}

TEST(WalFormatDecoderTest, CrcCheckValue) {
  EXPECT_EQ(IndependentCrc32c("123456789"), 0xE3069283u);
}

TEST(WalFormatDecoderTest, DecodesWhatTheWalEncodes) {
  const absl::StatusOr<DecodedLog> log = DecodeWalDirectory(TwoSegments());
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ(log->first_sequence, 5u);
  ASSERT_EQ(log->records.size(), 3u);
  EXPECT_EQ(log->records[0].payload, "alpha");
  EXPECT_EQ(log->records[1].offset_bytes, 32u + 24u + 5u);
  EXPECT_EQ(log->records[1].durable_watermark, 5u);
  EXPECT_EQ(log->records[2].segment, format::SegmentName(7));
  EXPECT_EQ(log->records[2].sequence, 7u);
}

TEST(WalFormatDecoderTest, RefusesAFrameSaltedForAnotherSegment) {
  std::map<std::string, std::string> files = TwoSegments();
  std::string& second = files[format::SegmentName(7)];
  second.resize(format::kSegmentHeaderBytes);
  format::AppendFrame(&second, 7, 6, "gamma", 0x1234u);  // the first segment's salt
  const absl::StatusOr<DecodedLog> log = DecodeWalDirectory(files);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("offset 32: frame checksum"), std::string::npos)
      << log.status();
}

TEST(WalFormatDecoderTest, RefusesGapsTornTailsAndForeignFiles) {
  std::map<std::string, std::string> gap = TwoSegments();
  gap.erase(format::SegmentName(5));
  gap[format::SegmentName(4)] = format::EncodeSegmentHeader(4, 1);  // holds nothing: ends at 4
  EXPECT_FALSE(DecodeWalDirectory(gap).ok());
  std::map<std::string, std::string> torn = TwoSegments();
  torn[format::SegmentName(7)].pop_back();
  EXPECT_FALSE(DecodeWalDirectory(torn).ok());
  std::map<std::string, std::string> foreign = TwoSegments();
  foreign["notes.txt"] = "x";
  EXPECT_FALSE(DecodeWalDirectory(foreign).ok());
  std::map<std::string, std::string> misnamed = TwoSegments();
  misnamed[format::SegmentName(9)] = format::EncodeSegmentHeader(8, 1);
  EXPECT_FALSE(DecodeWalDirectory(misnamed).ok());
}

// A sector-aligned segment (FORMAT.md): a header region padded to 512
// bytes, a batch, its padding to the next sector, and one more record.
TEST(WalFormatDecoderTest, SkipsPaddingFrames) {
  std::string bytes = format::EncodeSegmentHeader(3, 0x77u);
  format::AppendPadding(&bytes, 512 - bytes.size(), 0, 0x77u);
  format::AppendFrame(&bytes, 3, 2, "one", 0x77u);
  format::AppendPadding(&bytes, 1024 - bytes.size(), 2, 0x77u);
  format::AppendFrame(&bytes, 4, 3, "two", 0x77u);
  const absl::StatusOr<DecodedLog> log = DecodeWalDirectory({{format::SegmentName(3), bytes}});
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_EQ(log->records.size(), 2u);
  EXPECT_EQ(log->records[0].offset_bytes, 512u);
  EXPECT_EQ(log->records[1].sequence, 4u);
  EXPECT_EQ(log->records[1].offset_bytes, 1024u);
  ASSERT_EQ(log->padding.size(), 2u);
  EXPECT_EQ(log->padding[0].offset_bytes, 32u);
  EXPECT_EQ(log->padding[0].frame_bytes, 512u - 32u);
  EXPECT_EQ(log->padding[1].offset_bytes, 512u + 24u + 3u);
  // A sequence-0 frame must hold zeros: one that carries bytes is refused.
  std::string stuffed = format::EncodeSegmentHeader(3, 0x77u);
  format::AppendFrame(&stuffed, 0, 0, "data", 0x77u);
  format::AppendFrame(&stuffed, 3, 2, "one", 0x77u);
  const absl::StatusOr<DecodedLog> refused =
      DecodeWalDirectory({{format::SegmentName(3), stuffed}});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("offset 32: padding"), std::string::npos)
      << refused.status();
}

// The decoder is independent only if it shares no code with the WAL: its
// sources include nothing of core/ (nor anything that could reach it).
TEST(WalFormatDecoderTest, IncludesNothingOfCore) {
  for (const char* path : {FAULTLINE_DECODER_HEADER, FAULTLINE_DECODER_SOURCE}) {
    std::ifstream in(path);
    ASSERT_TRUE(in.good()) << path;
    std::string line;
    int includes = 0;
    while (std::getline(in, line)) {
      if (line.rfind("#include", 0) != 0) continue;
      ++includes;
      const bool allowed = line.find('<') != std::string::npos ||
                           line.find("\"absl/") != std::string::npos ||
                           line.find("\"scenarios/checkers/wal_format_decoder.h\"") !=
                               std::string::npos;
      EXPECT_TRUE(allowed) << path << ": " << line;
    }
    EXPECT_GT(includes, 0) << path;
  }
}

}  // namespace
}  // namespace faultline::scenarios
