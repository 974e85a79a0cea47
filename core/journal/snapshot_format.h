// core/journal/snapshot_format.h — the encoding of snapshot files: names,
// the header, little-endian integers. FORMAT.md (next to this file) is the
// specification; this is its only implementation. No I/O here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace faultline::journal::format {

// "FLTJSNAP": identifies a snapshot file.
inline constexpr char kSnapshotMagic[8] = {'F', 'L', 'T', 'J', 'S', 'N', 'A', 'P'};
inline constexpr uint32_t kFormatVersion = 1;
// magic(8) version(4) header_bytes(4) sequence(8) body_bytes(8)
// body_crc(4) header_crc(4).
inline constexpr size_t kHeaderBytes = 40;
// The largest body recovery reads (it reads it in chunks; the bound keeps a
// damaged length from promising an endless file).
inline constexpr uint64_t kMaxBodyBytes = uint64_t{1} << 40;

// The journal directory's entries (FORMAT.md, "Directory").
inline constexpr std::string_view kWalDirName = "wal";
inline constexpr std::string_view kTmpSuffix = ".tmp";

// "snapshot-<20 digits>.snap".
std::string SnapshotName(uint64_t sequence);
// The temporary name a checkpoint writes first: SnapshotName + ".tmp".
std::string TmpName(uint64_t sequence);
// The sequence of a snapshot name; nullopt for anything else.
std::optional<uint64_t> ParseSnapshotName(std::string_view name);
// Whether `name` is a temporary snapshot file (SnapshotName(s) + ".tmp").
bool IsTmpName(std::string_view name);

struct Header {
  uint32_t version = kFormatVersion;
  uint64_t sequence = 0;    // the state after records up to this one
  uint64_t body_bytes = 0;
  uint32_t body_crc = 0;    // masked CRC-32C of the body
};

void EncodeHeader(const Header& header, char out[kHeaderBytes]);

enum class HeaderProblem : uint8_t {
  kNone,
  kShort,          // fewer than kHeaderBytes bytes
  kBadMagic,
  kOtherVersion,   // a version this build does not read (not corruption)
  kBadChecksum,
  kBadLength,      // header_bytes is not kHeaderBytes, or body_bytes too large
};
std::string_view HeaderProblemName(HeaderProblem problem);

struct DecodedHeader {
  HeaderProblem problem = HeaderProblem::kNone;
  Header header;  // valid when problem == kNone (version also on kOtherVersion)
};
DecodedHeader DecodeHeader(std::string_view bytes);

// Little-endian integers (also used by the KV state machine's encodings).
void PutU32(char* out, uint32_t value);
void PutU64(char* out, uint64_t value);
uint32_t GetU32(std::string_view bytes);  // bytes.size() >= 4
uint64_t GetU64(std::string_view bytes);  // bytes.size() >= 8

}  // namespace faultline::journal::format
