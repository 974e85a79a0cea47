// core/io/errors.cc — errno → absl::Status mapping (see errors.h).
#include "core/io/errors.h"

#include <cerrno>
#include <charconv>
#include <cstring>
#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"

namespace faultline::io {
namespace {

constexpr char kErrnoPayloadUrl[] = "faultline.io/errno";
constexpr char kNodeDeadPayloadUrl[] = "faultline.io/node-dead";

absl::StatusCode CodeForErrno(int errno_value) {
  switch (errno_value) {
    case EIO: return absl::StatusCode::kUnavailable;  // IoError() refines it
    case ENOSPC: return absl::StatusCode::kResourceExhausted;
    case ENOENT: return absl::StatusCode::kNotFound;
    case EEXIST: return absl::StatusCode::kAlreadyExists;
    case EINVAL: return absl::StatusCode::kInvalidArgument;
    case ENOTDIR: return absl::StatusCode::kFailedPrecondition;
    case EISDIR: return absl::StatusCode::kFailedPrecondition;
    case ENOTEMPTY: return absl::StatusCode::kFailedPrecondition;
    default: return absl::StatusCode::kUnknown;
  }
}

// strerror() names are fixed strings on glibc for the values we use, but
// strerrordesc_np is the thread-safe, locale-free variant.
std::string_view ErrnoName(int errno_value) {
  const char* description = strerrordesc_np(errno_value);
  return description != nullptr ? std::string_view(description) : std::string_view("unknown error");
}

}  // namespace

absl::Status ErrnoToStatus(int errno_value, std::string_view context) {
  absl::Status status(CodeForErrno(errno_value),
                      absl::StrCat(AsAbsl(context), ": ",
                                   absl::string_view(ErrnoName(errno_value).data(),
                                                     ErrnoName(errno_value).size()),
                                   " (errno ", errno_value, ")"));
  status.SetPayload(kErrnoPayloadUrl, absl::Cord(std::to_string(errno_value)));
  return status;
}

absl::Status IoError(std::string_view context, IoFailure failure) {
  absl::Status status = ErrnoToStatus(EIO, context);
  if (failure == IoFailure::kRefused) return status;
  absl::Status at_risk(absl::StatusCode::kDataLoss, status.message());
  status.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { at_risk.SetPayload(url, payload); });
  return at_risk;
}

absl::Status NoSpaceError(std::string_view context) { return ErrnoToStatus(ENOSPC, context); }

absl::Status NodeDeadError(std::string_view context) {
  absl::Status status(absl::StatusCode::kAborted,
                      absl::StrCat(AsAbsl(context),
                                   ": node crashed; this handle belongs to a dead incarnation"));
  status.SetPayload(kNodeDeadPayloadUrl, absl::Cord("1"));
  return status;
}

int ErrnoOf(const absl::Status& status) {
  auto payload = status.GetPayload(kErrnoPayloadUrl);
  if (!payload.has_value()) return 0;
  std::string text(*payload);
  int value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() ? value : 0;
}

bool IsIoError(const absl::Status& status) { return ErrnoOf(status) == EIO; }
bool IsNoSpace(const absl::Status& status) { return ErrnoOf(status) == ENOSPC; }
bool IsNodeDead(const absl::Status& status) {
  return status.GetPayload(kNodeDeadPayloadUrl).has_value();
}

}  // namespace faultline::io
