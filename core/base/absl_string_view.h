// core/base/absl_string_view.h — std::string_view to absl::string_view.
//
// Abseil 20220623 as Debian ships it keeps its own string_view type, so
// absl::StrCat and friends do not take a std::string_view. This one adapter
// is what every part of the project calls; it copies nothing.
#pragma once

#include <string_view>

#include "absl/strings/string_view.h"

namespace faultline {

inline absl::string_view AsAbsl(std::string_view text) { return {text.data(), text.size()}; }

}  // namespace faultline
