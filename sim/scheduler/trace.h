// sim/scheduler/trace.h — the record of every decision a run made.
//
// Every subsystem appends an event for each decision that matters (which
// fiber ran, a fault injected, a message dropped, a crash, a checker
// verdict). Events fold into a 64-bit hash as they arrive; the hash printed at
// the end of a run is the run's fingerprint: same seed + same binary ⇒ same
// hash, in any process on any machine. The hash uses only our own mixing of
// integers and bytes (no std::hash, no pointers, no salted hashes).
//
// Keeping the events themselves (for --trace, or to find where two runs
// diverge) is optional and off by default, since sweeps only need the hash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace faultline::sim {

// Stable small ids for event categories. They are folded into the hash, so
// renumbering one changes every hash: append only.
enum class TraceKind : uint32_t {
  kStep = 0,        // the scheduler resumed a fiber (a = fiber id)
  kSpawn = 1,       // a fiber started (a = fiber id)
  kFiberExit = 2,   // a fiber finished (a = fiber id, b = 1 if unwound by a crash)
  kTimer = 3,       // virtual time advanced (a = new time)
  kCrash = 4,       // a node crashed (a = new incarnation)
  kRestart = 5,     // a node restarted (a = incarnation)
  kDisk = 6,        // a simulated disk decision
  kNetwork = 7,     // a simulated network decision
  kFault = 8,       // a fault was injected
  kCheck = 9,       // a checker verdict
  kApp = 10,        // anything the workload wants to record
  kFailure = 11,    // the run failed (exception, deadlock, budget)
  kIo = 12,         // an I/O operation of the code under test on a simulated disk
};

std::string_view TraceKindName(TraceKind kind);

// One named number of an event ("durable=728"). Only the value is folded
// into the hash: the name is fixed by the call site, so it adds no logical
// content, and leaving it out keeps recording free of string work.
// Contract: `name` has static storage (a string literal); an empty name means
// the field is unused and is not printed. A value that stands for a name (an
// enum: a fault kind, an open mode) carries `value_name`, which the printed
// line uses instead of the number ("kind=torn_write"); it must return text
// with static storage, and is never called while hashing. A signed number
// is stored as its two's complement and sets `is_signed`, so that it prints
// with its sign ("drift_ppm=-18"); the hash folds the same bits either way.
struct TraceField {
  std::string_view name;
  uint64_t value = 0;
  std::string_view (*value_name)(uint64_t value) = nullptr;
  bool is_signed = false;
};

struct TraceEvent {
  uint64_t index = 0;     // position in the trace, from 0
  int64_t time_ns = 0;    // virtual time
  uint32_t node = 0;      // node id (0 = the simulator itself)
  TraceKind kind = TraceKind::kApp;
  TraceField a;           // kind-specific named numbers
  TraceField b;
  std::string text;       // human-readable detail (folded into the hash)
  uint64_t hash_after = 0;

  // "#12  [  0.001000000s] n1  disk  fiber=3 killed=1  detail" — one line,
  // no newline; unnamed fields are left out.
  std::string Format(std::string_view node_name) const;
};

class Trace {
 public:
  // Appends an event. `text` is hashed byte by byte.
  void Record(int64_t time_ns, uint32_t node, TraceKind kind, TraceField a, TraceField b,
              std::string_view text);

  // An event whose text is only built when events are kept, for frequent
  // events (every I/O operation) that sweeps only hash. Instead of the text,
  // the hash folds `text_key`: a number the caller derives from everything
  // the text says (operation, file, result), so recording never changes it.
  template <typename Describe>
  void RecordLazy(int64_t time_ns, uint32_t node, TraceKind kind, TraceField a, TraceField b,
                  uint64_t text_key, Describe&& describe) {
    FoldEvent(time_ns, node, kind, a.value, b.value, text_key);
    if (recording_ && events_.size() < max_events_) {
      Keep(time_ns, node, kind, a, b, describe());
    }
    ++count_;
  }

  // The hot path of the scheduler: one fold, no text, no allocation unless
  // recording. A step folds only the fiber id: virtual time changes only
  // through kTimer events, which are folded with the new time, so the time
  // of a step is already fixed by the events before it.
  void RecordStep(int64_t time_ns, uint32_t node, uint64_t fiber_id) {
    if (recording_) {
      Record(time_ns, node, TraceKind::kStep, {"fiber", fiber_id}, {}, {});
      return;
    }
    hash_ = FoldStep(hash_, fiber_id);
    ++count_;
  }
  // Virtual time advanced to `time_ns` (two folds: kind and time).
  void RecordTimer(int64_t time_ns) {
    if (recording_) {
      Record(time_ns, 0, TraceKind::kTimer, {"now_ns", static_cast<uint64_t>(time_ns)}, {}, {});
      return;
    }
    hash_ = Fold(Fold(hash_, static_cast<uint64_t>(TraceKind::kTimer)), static_cast<uint64_t>(time_ns));
    ++count_;
  }

  uint64_t hash() const { return hash_; }
  // The number of events so far: the index the next event will get, whether
  // events are kept or not (a checker notes it to name an event later).
  uint64_t event_count() const { return count_; }

  // The indexes of `node`'s crash events (TraceKind::kCrash) after index
  // `after`, oldest first, at most `max`: where a verdict's lost record was
  // lost. Kept whether events are or not; the first kMaxCrashMarks crashes
  // of a run only (crashes are rare: a run has tens).
  std::vector<uint64_t> CrashesSince(uint32_t node, uint64_t after, size_t max = 16) const;
  static constexpr size_t kMaxCrashMarks = 65'536;

  // Keep events (bounded by `max_events`; older ones are kept, later ones
  // only hashed once the bound is reached).
  void set_recording(bool recording, size_t max_events = 1'000'000) {
    recording_ = recording;
    max_events_ = max_events;
  }
  bool recording() const { return recording_; }
  const std::vector<TraceEvent>& events() const { return events_; }

  // Mixes one 64-bit value into a running hash (a multiply–xorshift step;
  // not cryptographic, but every input bit affects every output bit).
  static uint64_t Fold(uint64_t hash, uint64_t value) {
    hash ^= value + 0x9E3779B97F4A7C15ull + (hash << 6) + (hash >> 2);
    hash *= 0xFF51AFD7ED558CCDull;
    return hash ^ (hash >> 32);
  }
  static uint64_t HashBytes(std::string_view bytes);
  // The step fold: one xor and one multiply by an odd constant, so each step
  // is a bijection of the running hash (distinct histories stay distinct)
  // and short enough not to stall the context switch beside it. Steps are
  // the most frequent event by far; everything else uses the stronger Fold.
  static uint64_t FoldStep(uint64_t hash, uint64_t fiber_id) {
    return (hash ^ ((fiber_id << 4) | static_cast<uint64_t>(TraceKind::kStep))) *
           0x9FB21C651E98DF25ull;
  }

 private:
  void FoldEvent(int64_t time_ns, uint32_t node, TraceKind kind, uint64_t a, uint64_t b,
                 uint64_t text_key);
  void Keep(int64_t time_ns, uint32_t node, TraceKind kind, TraceField a, TraceField b,
            std::string text);

  struct CrashMark {
    uint32_t node = 0;
    uint64_t index = 0;
  };

  uint64_t hash_ = 0xCBF29CE484222325ull;
  uint64_t count_ = 0;
  std::vector<CrashMark> crash_marks_;  // in index order
  bool recording_ = false;
  size_t max_events_ = 0;
  std::vector<TraceEvent> events_;
};

// The first event at which two recorded traces differ, or nullopt if one is
// a prefix of the other and both have the same length.
std::optional<uint64_t> FirstDivergence(const std::vector<TraceEvent>& a,
                                        const std::vector<TraceEvent>& b);

}  // namespace faultline::sim
