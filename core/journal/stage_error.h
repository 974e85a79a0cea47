// core/journal/stage_error.h — errors that name the journal's stage and file.
#pragma once

#include <string_view>

#include "absl/status/status.h"

namespace faultline::journal {

// `status` with "journal <stage> <path>: " before its message; the code and
// payloads (the errno) are kept, so io::IsIoError and friends still hold.
absl::Status StageError(const absl::Status& status, std::string_view stage,
                        std::string_view path);

}  // namespace faultline::journal
