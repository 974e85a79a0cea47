// core/io/lock_table.cc — the in-memory FileLock table.
#include "core/io/lock_table.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"

namespace faultline::io {

class LockTable::TableLock final : public FileLock {
 public:
  TableLock(std::weak_ptr<State> state, std::string path, uint64_t token)
      : state_(std::move(state)), path_(std::move(path)), token_(token) {}
  ~TableLock() override {
    std::shared_ptr<State> state = state_.lock();
    if (state == nullptr) return;
    auto it = state->held.find(path_);
    if (it != state->held.end() && it->second == token_) state->held.erase(it);
  }
  TableLock(const TableLock&) = delete;
  TableLock& operator=(const TableLock&) = delete;

 private:
  const std::weak_ptr<State> state_;
  const std::string path_;
  const uint64_t token_;
};

absl::StatusOr<std::unique_ptr<FileLock>> LockTable::Lock(std::string_view path) {
  std::string key(path);
  if (state_->held.count(key) > 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("lock ", AsAbsl(path),
                     ": held by another owner"));
  }
  const uint64_t token = state_->next_token++;
  state_->held.emplace(key, token);
  return std::unique_ptr<FileLock>(new TableLock(state_, std::move(key), token));
}

}  // namespace faultline::io
