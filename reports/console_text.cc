// reports/console_text.cc — see console_text.h.
#include "reports/console_text.h"

#include "absl/strings/str_format.h"
#include "reports/utf8.h"

namespace faultline::reports {

std::string ConsoleText(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t pos = 0; pos < text.size();) {
    const unsigned char c = static_cast<unsigned char>(text[pos]);
    size_t length = Utf8SequenceLength(text, pos);
    const bool c1_control = length == 2 && Utf8CodePoint(text, pos, length) < 0xA0;
    if (length == 0 || c1_control) {
      length = length == 0 ? 1 : length;
      for (size_t i = 0; i < length; ++i) {
        absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(text[pos + i]));
      }
    } else if (length > 1) {
      out.append(text.substr(pos, length));
    } else if (c == '\n') {
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
    pos += length;
  }
  return out;
}

}  // namespace faultline::reports
