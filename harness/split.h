// harness/split.h — split text on one character, as std::string_views.
//
// (Abseil 20220623's StrSplit yields absl::string_view, which is not
// std::string_view on this toolchain.)
#pragma once

#include <string_view>
#include <vector>

namespace faultline::harness {

// Every piece between separators, empty pieces included: "a,,b" → a, "", b.
inline std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> pieces;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    if (end == std::string_view::npos) {
      pieces.push_back(text.substr(start));
      return pieces;
    }
    pieces.push_back(text.substr(start, end - start));
    start = end + 1;
  }
}

}  // namespace faultline::harness
