// reports/seed_result.cc — see seed_result.h.
#include "reports/seed_result.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_format.h"

namespace faultline::reports {

std::string Hex64(uint64_t value) { return absl::StrFormat("0x%016x", value); }

std::string ShellWord(std::string_view text) {
  const bool plain = !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("_-./:@%+,=").find(c) != std::string_view::npos;
  });
  if (plain) return std::string(text);
  std::string word = "'";
  for (char c : text) {
    if (c == '\'') {
      word += "'\\''";
    } else {
      word.push_back(c);
    }
  }
  return word + "'";
}

std::string SeedResult::ReplayCommand() const {
  return absl::StrFormat("faultline replay %s --seed %s --trace --log-level debug",
                         ShellWord(scenario), Hex64(seed));
}

}  // namespace faultline::reports
