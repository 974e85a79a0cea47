// reports/console_text.h — free text made safe for a terminal.
//
// A failure detail comes from the code under test. Printed raw, its control
// bytes could recolour or clear the terminal, and its newlines could forge a
// "FAIL ..." line a CI log scraper believes. On the console it is one line:
// valid printable UTF-8 is kept; \n \r \t are written as those two-character
// escapes; other control characters (C0, DEL, C1) and bytes that are not
// valid UTF-8 as \xNN, one per byte.
#pragma once

#include <string>
#include <string_view>

namespace faultline::reports {

std::string ConsoleText(std::string_view text);

}  // namespace faultline::reports
