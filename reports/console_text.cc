// reports/console_text.cc — see console_text.h.
#include "reports/console_text.h"

#include "absl/strings/str_format.h"
#include "reports/utf8.h"

namespace faultline::reports {

std::string ConsoleText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  ForEachUtf8Unit(text, [&out](const Utf8Unit& unit) {
    const bool c1_control = unit.valid && unit.bytes.size() == 2 && unit.code_point < 0xA0;
    if (!unit.valid || c1_control) {
      for (const char byte : unit.bytes) {
        absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(byte));
      }
      return;
    }
    if (unit.bytes.size() > 1) {
      out.append(unit.bytes);
      return;
    }
    const unsigned char c = static_cast<unsigned char>(unit.bytes[0]);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      absl::StrAppendFormat(&out, "\\x%02x", c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  });
  return out;
}

}  // namespace faultline::reports
