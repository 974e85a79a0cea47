// scenarios/wal/wal_payloads.h — the payloads the WAL scenarios' writers
// append: random bytes, and in some seeds adversarial ones.
//
// Adversarial payloads are bytes a log's own framing could mistake for its
// own: payloads that embed valid WAL frames (of this log, forged with the
// salt an attacker who guessed the log's salt seed would use, or of another
// log), all zeros, all 0xFF, and payloads of exactly max_record_bytes. A
// torn tail behind such a payload must still read as a torn tail, never as
// damage (DataLoss), and never as records.
//
// Every byte comes from the workload stream, so a seed gives one history.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "sim/scheduler/prng.h"

namespace faultline::scenarios {

// The salt seed an attacker assumes when forging frames of "this log": the
// WAL's default. A log opened with a salt seed drawn from the run's PRNG
// (as the scenarios do) is not fooled. The writer mixes the clock and the
// directory into each segment's salt as well, so knowing the seed is not
// enough by itself: an author who also guesses the creation time knows the
// salt, which the caller then passes as `known_salt`.
inline constexpr uint64_t kGuessedSaltSeed = 0;

struct PayloadShape {
  uint32_t max_payload_bytes = 1;  // sizes are drawn in [1, max]
  uint32_t max_record_bytes = 1;   // the WAL's limit: a max-size payload has this size
  // 0: never adversarial; n: one payload in n is (one draw per payload).
  uint32_t adversarial_one_in = 0;
  // 0: never; n: one payload in n has exactly max_record_bytes.
  uint32_t max_size_one_in = 0;
};

// A payload for the record the writer expects to get `next_sequence`.
// `known_salt`: the salt of the log's newest segment, when the payload's
// author knows it (a predictable salt); frames forged for "this log" then
// use it. Without it they use SegmentSalt(kGuessedSaltSeed, ...), a guess.
// Either way the same draws are made, so it changes bytes, not the history.
std::string MakeWalPayload(sim::Prng& workload, const PayloadShape& shape,
                           uint64_t next_sequence,
                           std::optional<uint32_t> known_salt = std::nullopt);

}  // namespace faultline::scenarios
