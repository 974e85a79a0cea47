// harness/trace_filter.h — which lines of a formatted trace `replay --trace`
// prints.
//
// The full trace is always recorded and hashed; this only chooses what a
// person reads. By default the scheduler's own events (step, timer, spawn,
// exit) are hidden: they are most of the lines and rarely the cause.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace faultline::harness {

struct TraceFilter {
  // Bit per category (see ParseTraceKinds); default: all but sched.
  unsigned kinds = 0;
  std::string node;  // only events of this node ("n1", "sim"); empty = all
  // Only events with from_ns <= virtual time <= until_ns.
  int64_t from_ns = 0;
  int64_t until_ns = INT64_MAX;
};

// The category names, for help and errors: "io, fault, crash, check, app, sched".
std::string_view TraceCategoryNames();

// "io,crash" -> the bits of those categories; "all" -> every category.
// InvalidArgument naming the unknown word otherwise.
absl::StatusOr<unsigned> ParseTraceKinds(std::string_view list);

// The default filter: every category but sched, every node.
TraceFilter DefaultTraceFilter();

// The lines of `dump` (TraceEvent::Format lines, one a line) that pass;
// then, if `filter.node` names a node no event is from, a line saying so
// with the nodes there are.
std::string FilterTrace(std::string_view dump, const TraceFilter& filter);

}  // namespace faultline::harness
