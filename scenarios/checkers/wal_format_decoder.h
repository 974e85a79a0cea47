// scenarios/checkers/wal_format_decoder.h — an independent decoder of the
// WAL's on-disk format, written from core/wal/FORMAT.md alone.
//
// It shares no code with core/wal (not its format code, not its CRC): a
// format mistake that the WAL's writer and reader make alike — a checksum
// over the wrong bytes, a field at the wrong offset, a name that does not
// sort — passes the WAL's own recovery but not this decoder. The scenarios
// run it on the durable image after each seed's final recovery and demand
// that it decodes exactly the records recovery returned. A lint test
// (tests/scenarios/checkers) keeps it from including anything of core/.
//
// It decodes a log at rest after a recovery: no torn tail is allowed (the
// recovery truncated it), every frame must verify, sequences must be
// consecutive across segments (padding frames, sequence 0, carry none and
// must hold zeros), and only the last segment may be empty
// besides segments that hold nothing past their header.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace faultline::scenarios {

// One record as the decoder found it.
struct DecodedRecord {
  std::string segment;  // file name, e.g. 00000000000000000001.wal
  uint64_t offset_bytes = 0;
  uint64_t frame_bytes = 0;  // header + payload
  uint64_t sequence = 0;
  uint64_t durable_watermark = 0;
  std::string payload;
};

// A padding frame (sequence 0): no record, skipped (FORMAT.md, "Padding
// frames and sector alignment").
struct DecodedPadding {
  std::string segment;
  uint64_t offset_bytes = 0;
  uint64_t frame_bytes = 0;  // header + payload
};

struct DecodedLog {
  // The first record's sequence, or the first segment's first sequence
  // when there is no record; 0 when there is no segment.
  uint64_t first_sequence = 0;
  std::vector<DecodedRecord> records;
  std::vector<DecodedPadding> padding;  // in log order
};

// CRC-32C (Castagnoli, reflected, init/final XOR 0xFFFFFFFF) and the mask.
uint32_t IndependentCrc32c(std::string_view bytes);
uint32_t MaskCrc(uint32_t crc);

// Decodes the segment files of one directory (file name -> bytes). Any
// file that is not a valid segment, any frame that fails, any gap: an
// error (DataLoss) naming the file and the byte offset.
absl::StatusOr<DecodedLog> DecodeWalDirectory(const std::map<std::string, std::string>& files);

}  // namespace faultline::scenarios
