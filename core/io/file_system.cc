// core/io/file_system.cc — path rules shared by every FileSystem.
#include "core/io/file_system.h"

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"
#include "core/base/status_macros.h"

namespace faultline::io {

absl::Status File::WriteAtAndSync(uint64_t offset, absl::Span<const char> data) {
  FAULTLINE_RETURN_IF_ERROR(WriteAt(offset, data));
  return Sync();
}

absl::Status ValidatePath(std::string_view path, bool allow_root) {
  auto invalid = [&](std::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid path \"", AsAbsl(path), "\": ",
        AsAbsl(why)));
  };
  if (path.empty()) return allow_root ? absl::OkStatus() : invalid("empty");
  if (path.size() > 4096) return invalid("longer than 4096 bytes");
  if (path.front() == '/') return invalid("absolute paths are not allowed");
  if (path.find('\0') != std::string_view::npos) return invalid("contains NUL");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(start, end - start);
    if (component.empty()) return invalid("empty component");
    if (component == "." || component == "..") return invalid("'.' and '..' are not allowed");
    start = end + 1;
  }
  return absl::OkStatus();
}

std::string_view ParentDir(std::string_view path) {
  size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

std::string JoinPath(std::string_view dir, std::string_view name) {
  if (dir.empty()) return std::string(name);
  std::string joined(dir);
  joined.push_back('/');
  joined.append(name);
  return joined;
}

}  // namespace faultline::io
