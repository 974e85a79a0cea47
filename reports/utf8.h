// reports/utf8.h — where text is valid UTF-8, for the escapes of every
// report format.
//
// Failure details are free text from the code under test: they may hold
// valid UTF-8 (kept as is in every report), control bytes, or bytes that are
// not UTF-8 at all (a corrupt payload). Each format escapes from the same
// decision, made here.
#pragma once

#include <cstddef>
#include <string_view>

namespace faultline::reports {

// The length (1-4) of the well-formed UTF-8 sequence starting at text[pos],
// or 0 if the byte there does not start one (a stray continuation byte, a
// truncated or overlong sequence, a UTF-16 surrogate, past U+10FFFF).
// Requires pos < text.size().
size_t Utf8SequenceLength(std::string_view text, size_t pos);

// The code point of the well-formed sequence of `length` bytes at text[pos].
char32_t Utf8CodePoint(std::string_view text, size_t pos, size_t length);

// U+FFFD, the replacement character, in UTF-8.
inline constexpr std::string_view kUtf8Replacement = "\xEF\xBF\xBD";

}  // namespace faultline::reports
