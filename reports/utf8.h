// reports/utf8.h — where text is valid UTF-8, for the escapes of every
// report format.
//
// Failure details are free text from the code under test: they may hold
// valid UTF-8 (kept as is in every report), control bytes, or bytes that are
// not UTF-8 at all (a corrupt payload). Each format escapes from the same
// decision and the same walk over the text, both made here.
#pragma once

#include <cstddef>
#include <string_view>

#include "absl/functional/function_ref.h"

namespace faultline::reports {

// The length (1-4) of the well-formed UTF-8 sequence starting at text[pos],
// or 0 if the byte there does not start one (a stray continuation byte, a
// truncated or overlong sequence, a UTF-16 surrogate, past U+10FFFF).
// Requires pos < text.size().
size_t Utf8SequenceLength(std::string_view text, size_t pos);

// The code point of the well-formed sequence of `length` bytes at text[pos].
char32_t Utf8CodePoint(std::string_view text, size_t pos, size_t length);

// One piece of text as an escaper sees it: a well-formed sequence (valid,
// 1-4 bytes, with its code point) or a single byte that starts none.
struct Utf8Unit {
  std::string_view bytes;
  bool valid = false;
  char32_t code_point = 0;  // of a valid unit; 0 otherwise
};

// Calls `escape` on each unit of `text`, in order, covering every byte once.
void ForEachUtf8Unit(std::string_view text, absl::FunctionRef<void(const Utf8Unit&)> escape);

// U+FFFD, the replacement character, in UTF-8.
inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";

}  // namespace faultline::reports
