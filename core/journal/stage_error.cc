// core/journal/stage_error.cc — see stage_error.h.
#include "core/journal/stage_error.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"

namespace faultline::journal {

absl::Status StageError(const absl::Status& status, std::string_view stage,
                        std::string_view path) {
  if (status.ok()) return status;
  absl::Status out(status.code(), absl::StrCat("journal ", AsAbsl(stage), " ", AsAbsl(path), ": ",
                                               status.message()));
  status.ForEachPayload([&out](absl::string_view url, const absl::Cord& payload) {
    out.SetPayload(url, payload);
  });
  return out;
}

}  // namespace faultline::journal
