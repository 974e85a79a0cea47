// sim/scheduler/trace.cc — see trace.h.
#include "sim/scheduler/trace.h"

#include <algorithm>

#include "absl/strings/str_format.h"
#include "core/base/absl_string_view.h"

namespace faultline::sim {

std::string_view TraceKindName(TraceKind kind) {
  switch (kind) {
    case TraceKind::kStep: return "step";
    case TraceKind::kSpawn: return "spawn";
    case TraceKind::kFiberExit: return "exit";
    case TraceKind::kTimer: return "timer";
    case TraceKind::kCrash: return "crash";
    case TraceKind::kRestart: return "restart";
    case TraceKind::kDisk: return "disk";
    case TraceKind::kNetwork: return "net";
    case TraceKind::kFault: return "fault";
    case TraceKind::kCheck: return "check";
    case TraceKind::kApp: return "app";
    case TraceKind::kFailure: return "FAIL";
    case TraceKind::kIo: return "io";
  }
  return "?";
}

namespace {

// Appends `text` with its control bytes escaped ("\n", "\x1b"): an event is
// one line, whatever text the code under test put in it, and a terminal
// showing the trace gets no escape sequence. Bytes from 0x80 pass (UTF-8).
void AppendOneLine(std::string_view text, std::string& line) {
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte != 0x7f) {
      line += c;
    } else if (c == '\n') {
      line += "\\n";
    } else if (c == '\r') {
      line += "\\r";
    } else if (c == '\t') {
      line += "\\t";
    } else {
      absl::StrAppendFormat(&line, "\\x%02x", byte);
    }
  }
}

}  // namespace

std::string TraceEvent::Format(std::string_view node_name) const {
  const std::string_view kind_name = TraceKindName(kind);
  std::string line = absl::StrFormat("#%-7d [%6d.%09ds] %-8s %-7s", index,
                                     time_ns / 1'000'000'000, time_ns % 1'000'000'000,
                                     AsAbsl(node_name), AsAbsl(kind_name));
  bool any_field = false;
  for (const TraceField& field : {a, b}) {
    if (field.name.empty()) continue;
    if (field.value_name != nullptr) {
      absl::StrAppendFormat(&line, " %s=%s", AsAbsl(field.name),
                            AsAbsl(field.value_name(field.value)));
    } else if (field.is_signed) {
      absl::StrAppendFormat(&line, " %s=%d", AsAbsl(field.name), static_cast<int64_t>(field.value));
    } else {
      absl::StrAppendFormat(&line, " %s=%d", AsAbsl(field.name), field.value);
    }
    any_field = true;
  }
  if (!text.empty()) {
    line += any_field ? "  " : " ";
    AppendOneLine(text, line);
  }
  return line;
}

uint64_t Trace::HashBytes(std::string_view bytes) {
  // FNV-1a over the bytes, then a final fold so short strings spread out.
  uint64_t hash = 0xCBF29CE484222325ull;
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 0x100000001B3ull;
  }
  return Fold(hash, bytes.size());
}

void Trace::Record(int64_t time_ns, uint32_t node, TraceKind kind, TraceField a_field,
                   TraceField b_field, std::string_view text) {
  const uint64_t a = a_field.value;
  const uint64_t b = b_field.value;
  // kStep and kTimer fold exactly as RecordStep and RecordTimer do, so that
  // recording never changes the hash.
  if (kind == TraceKind::kStep) {
    hash_ = FoldStep(hash_, a);
  } else if (kind == TraceKind::kTimer) {
    hash_ = Fold(Fold(hash_, static_cast<uint64_t>(kind)), static_cast<uint64_t>(time_ns));
  } else {
    FoldEvent(time_ns, node, kind, a, b, text.empty() ? 0 : HashBytes(text));
    if (kind == TraceKind::kCrash && crash_marks_.size() < kMaxCrashMarks) {
      crash_marks_.push_back({node, count_});
    }
  }
  if (recording_ && events_.size() < max_events_) {
    Keep(time_ns, node, kind, a_field, b_field, std::string(text));
  }
  ++count_;
}

std::vector<uint64_t> Trace::CrashesSince(uint32_t node, uint64_t after, size_t max) const {
  auto it = std::upper_bound(crash_marks_.begin(), crash_marks_.end(), after,
                             [](uint64_t index, const CrashMark& mark) { return index < mark.index; });
  std::vector<uint64_t> crashes;
  for (; it != crash_marks_.end() && crashes.size() < max; ++it) {
    if (it->node == node) crashes.push_back(it->index);
  }
  return crashes;
}

void Trace::FoldEvent(int64_t time_ns, uint32_t node, TraceKind kind, uint64_t a, uint64_t b,
                      uint64_t text_key) {
  hash_ = Fold(Fold(hash_, static_cast<uint64_t>(kind)), a);
  hash_ = Fold(Fold(hash_, b), node);
  if (text_key != 0) hash_ = Fold(hash_, text_key);
  hash_ = Fold(hash_, static_cast<uint64_t>(time_ns));
}

void Trace::Keep(int64_t time_ns, uint32_t node, TraceKind kind, TraceField a, TraceField b,
                 std::string text) {
  events_.push_back(TraceEvent{.index = count_, .time_ns = time_ns, .node = node, .kind = kind,
                               .a = a, .b = b, .text = std::move(text), .hash_after = hash_});
}

std::optional<uint64_t> FirstDivergence(const std::vector<TraceEvent>& a,
                                        const std::vector<TraceEvent>& b) {
  const size_t common = std::min(a.size(), b.size());
  for (size_t i = 0; i < common; ++i) {
    if (a[i].hash_after != b[i].hash_after) return i;
  }
  if (a.size() != b.size()) return common;
  return std::nullopt;
}

}  // namespace faultline::sim
