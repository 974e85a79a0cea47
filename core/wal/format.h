// core/wal/format.h — the WAL's on-disk encoding: segment names, segment
// headers and record frames. FORMAT.md (next to this file) is the
// specification; this file is its only implementation, used by the writer,
// the reader and recovery alike, and by tests.
//
// All integers are little-endian. Nothing here does I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace faultline::wal::format {

// --- segment files ----------------------------------------------------------

// "FLTWALSG": identifies a WAL segment file.
inline constexpr char kSegmentMagic[8] = {'F', 'L', 'T', 'W', 'A', 'L', 'S', 'G'};
// The format version this build writes and reads. Version 1 (no salt) is
// refused: its frames can be forged by payloads (FORMAT.md, salt).
inline constexpr uint32_t kFormatVersion = 2;
// magic(8) version(4) header_bytes(4) first_sequence(8) salt(4) crc(4).
inline constexpr size_t kSegmentHeaderBytes = 32;

// --- limits shared by the writer and the reader -----------------------------
// A configuration the writer accepts must always be recoverable, so both
// sides take their limits from here.

// The largest segment file recovery reads (it reads a segment whole). The
// writer's segment_size_bytes is bounded by it, and a record alone in its
// segment (kSegmentHeaderBytes + FrameBytes(kMaxPayloadBytes)) fits in it.
inline constexpr uint64_t kMaxSegmentFileBytes = 1ull << 30;
// The most segments a log holds. The writer never creates more; recovery
// accepts one file more (a leftover of a creation that a crash interrupted,
// which it removes).
inline constexpr size_t kMaxSegments = 1u << 20;

// Segment file names: 20 decimal digits of the first sequence, then ".wal",
// so that bytewise name order is sequence order.
inline constexpr size_t kSegmentNameDigits = 20;
inline constexpr std::string_view kSegmentSuffix = ".wal";

std::string SegmentName(uint64_t first_sequence);
// The first sequence encoded in a segment file name, or nullopt when `name`
// is not a segment name (a foreign file; also the name of sequence 0, which
// no record carries).
std::optional<uint64_t> ParseSegmentName(std::string_view name);

struct SegmentHeader {
  uint32_t version = kFormatVersion;
  uint64_t first_sequence = 0;
  // Mixed into the checksum of every frame of the segment, so that a frame
  // copied from elsewhere (another log, another segment, a payload) does not
  // verify here. See FORMAT.md.
  uint32_t salt = 0;
};

// The salt of the segment starting at `first_sequence`, from `salt_seed`: a
// mix of the two, different for every segment. The writer's seed is its
// WalOptions::salt_seed mixed with the clock and the directory (FORMAT.md).
uint32_t SegmentSalt(uint64_t salt_seed, uint64_t first_sequence);

// Exactly kSegmentHeaderBytes bytes.
std::string EncodeSegmentHeader(uint64_t first_sequence, uint32_t salt);

enum class HeaderProblem : uint8_t {
  kNone,
  kTooShort,       // fewer than kSegmentHeaderBytes bytes
  kBadMagic,       // not a segment of this format (or torn/garbage)
  kFutureVersion,  // a version newer than kFormatVersion
  kOldVersion,     // a version older than kFormatVersion (not read any more)
  kBadChecksum,    // checksum mismatch (torn or corrupt)
  kBadLayout,      // header_bytes / reserved fields do not match the version
};
std::string_view HeaderProblemName(HeaderProblem problem);

struct DecodedHeader {
  HeaderProblem problem = HeaderProblem::kNone;
  // Valid only when problem == kNone (version also for kFutureVersion and
  // kOldVersion).
  SegmentHeader header;
};
DecodedHeader DecodeSegmentHeader(std::string_view bytes);

// --- record frames ----------------------------------------------------------

// masked_crc(4) payload_bytes(4) sequence(8) durable_watermark(8), then the
// payload. The CRC covers the payload, then bytes [4, 24) of the frame
// header, then the segment's salt.
inline constexpr size_t kFrameHeaderBytes = 24;
// The largest payload the format admits (a writer may be configured lower).
// Bounds every allocation a reader makes for one record.
inline constexpr uint32_t kMaxPayloadBytes = 64u << 20;

inline size_t FrameBytes(size_t payload_bytes) { return kFrameHeaderBytes + payload_bytes; }

struct FrameHeader {
  uint32_t masked_crc = 0;
  uint32_t payload_bytes = 0;
  uint64_t sequence = 0;
  // The highest sequence the writer knew to be durable when it wrote this
  // frame (0: none). Recovery uses it to tell a torn tail from lost
  // acknowledged records; see FORMAT.md.
  uint64_t durable_watermark = 0;
};

// Appends one frame for `payload`, in a segment salted with `salt`, to `out`.
void AppendFrame(std::string* out, uint64_t sequence, uint64_t durable_watermark,
                 std::string_view payload, uint32_t salt);

// A frame in two steps, for a writer that copies the payload into place when
// a record is queued but knows the watermark only when its batch is written:
// PayloadCrc() then, and EncodeFrameHeader() into the kFrameHeaderBytes
// left in front of the payload later. The checksum covers the payload before
// the header fields (FORMAT.md) so that the first step does the bulk of it.
uint32_t PayloadCrc(std::string_view payload);  // unmasked CRC-32C
// Writes the header's payload_bytes, sequence and durable_watermark, and the
// checksum they, the payload and the salt give (header.masked_crc is ignored).
void EncodeFrameHeader(const FrameHeader& header, uint32_t payload_crc, uint32_t salt,
                       char out[kFrameHeaderBytes]);

// --- padding frames ---------------------------------------------------------
// A frame with sequence kPaddingSequence carries no record: its payload is
// zeros and it only fills a segment up to a sector boundary, so that the
// next write never shares a sector with synced frames (FORMAT.md, "Sector
// alignment"). Readers verify it like any frame and skip it.
inline constexpr uint64_t kPaddingSequence = 0;
// The largest sector a writer aligns to, and so the largest padding frame
// (sector + kFrameHeaderBytes bytes) a reader must expect.
inline constexpr uint32_t kMaxSectorBytes = 64u << 10;

// How many bytes of padding end a write that ends at `end_offset` on a
// multiple of `sector_bytes` (0: no alignment): 0 when it already does, else
// at least FrameBytes(1) (the smallest frame), so up to sector_bytes +
// kFrameHeaderBytes.
uint64_t PaddingBytes(uint64_t end_offset, uint32_t sector_bytes);
// Appends one padding frame of exactly `padding_bytes` (>= FrameBytes(1)).
void AppendPadding(std::string* out, uint64_t padding_bytes, uint64_t durable_watermark,
                   uint32_t salt);

// Decodes a frame header from the first kFrameHeaderBytes of `bytes` (which
// must hold that many). Checks nothing.
FrameHeader DecodeFrameHeader(std::string_view bytes);

enum class FrameProblem : uint8_t {
  kNone,
  kTruncated,     // the header or payload runs past the end of the data
  kBadLength,     // payload_bytes is 0 or above kMaxPayloadBytes
  kBadChecksum,   // checksum mismatch
};
std::string_view FrameProblemName(FrameProblem problem);

struct DecodedFrame {
  FrameProblem problem = FrameProblem::kNone;
  FrameHeader header;
  std::string_view payload;  // points into the input; valid when problem == kNone
};
// Decodes and verifies the frame that starts at the beginning of `bytes`, in
// a segment salted with `salt`. This is the frame validity rule: recovery,
// the reader and tests all judge frames with it (CheckFrame for a reader
// that holds the header and the payload apart).
DecodedFrame DecodeFrame(std::string_view bytes, uint32_t salt);
// The same rule for a header already decoded and its payload read
// separately (payload.size() bytes were available after the header).
FrameProblem CheckFrame(const FrameHeader& header, std::string_view payload, uint32_t salt);
// The length check alone, for a reader deciding how much to read.
bool PlausibleLength(uint32_t payload_bytes);

// The checksum a frame with this header and payload must carry (masked).
uint32_t FrameChecksum(const FrameHeader& header, std::string_view payload, uint32_t salt);
uint32_t FrameChecksum(const FrameHeader& header, uint32_t payload_crc, uint32_t salt);

}  // namespace faultline::wal::format
