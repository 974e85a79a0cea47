// tests/scenarios/buggy_api_plants.h — test-only WALs with a defect at
// their API boundary, the mistakes a WAL makes in its group commit,
// recovery, release and reader paths, planted as decorators over the
// production WAL (scenarios/wal/wal_api.h, WalScenarioHooks::wrap_wal).
//
// Each plant changes what one call returns or does, exactly as the WAL with
// that mistake would show it to its caller; what the production WAL does
// underneath stays correct. docs/results/bug_detection.md lists them with
// the seeds each sweep needs to catch it.
//
//  DurableCountsQueued    (group commit) durable_sequence() reports every
//      record handed out, queued or not, as durable.
//  FlushDoesNotWait       (group commit) Flush() wakes the flusher and
//      returns at once, without waiting for the sync.
//  BatchNotAtomic         (group commit) AppendBatch queues its records one
//      Append at a time, letting the fiber scheduler run between them.
//  BatchFutureOnFirst     (group commit) AppendBatch's future resolves to
//      the batch's first sequence instead of its last.
//  HealthHidesFailure     (group commit) health() stays OK after a failed
//      sync stopped the Wal.
//  DurableLagsAfterOpen   (recovery) after Open, durable_sequence() is one
//      short of the last recovered record until the next batch is durable.
//  ReleaseOffByOne        (release) Release(b) releases segments whose
//      records are all <= b instead of < b.
//  ReaderSkipsAfterCaughtUp (reader) a reader that reported "no more
//      records" skips the record that arrives next.
//  ReaderSeekOffByOne     (reader) a reader started inside the log (past
//      first_sequence()) starts one record late.
//  NewReaderClampsReleased (reader) NewReader below first_sequence() starts
//      at first_sequence() instead of failing with NotFound.
//
// Two more at the file-system seam (io::FileSystem decorators, like
// buggy_file_systems.h):
//
//  ReleaseWithoutDirSync  (release) removals are not made durable one by
//      one: the SyncDir that follows a segment's removal does nothing.
//  RecoveryTruncateUnsynced (recovery) the fdatasync that follows a
//      truncation (recovery setting the newest segment's size) does
//      nothing: what recovery read from the cache is adopted undurable.
//  HeaderSequenceBigEndian (format) writer and reader agree on storing the
//      header's first_sequence big-endian, against FORMAT.md: the WAL
//      reads its own log back, and only a decoder written from FORMAT.md
//      sees the mistake (the header checksum no longer matches the bytes).
//  RecoveryCutsBeforeRefusing (recovery) recovery cuts every segment at its
//      first bad frame before deciding whether that is a torn tail or
//      damage: a refused Open has already destroyed what an operator would
//      need to repair the log by hand.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <utility>

#include "absl/status/status.h"
#include "core/runtime/executor.h"
#include "core/runtime/future.h"
#include "core/runtime/spawn.h"
#include "core/io/file_system.h"
#include "core/wal/format.h"
#include "scenarios/io/forwarding_file_system.h"
#include "scenarios/wal/wal_api.h"
#include "tests/scenarios/buggy_file_systems.h"

namespace faultline::scenarios::testing {

class DurableCountsQueued final : public ForwardingLogApi {
 public:
  using ForwardingLogApi::ForwardingLogApi;
  uint64_t durable_sequence() const override { return inner().last_sequence(); }
};

class FlushDoesNotWait final : public ForwardingLogApi {
 public:
  using ForwardingLogApi::ForwardingLogApi;
  absl::Status Flush() override { return inner().health(); }
};

class BatchNotAtomic final : public ForwardingLogApi {
 public:
  BatchNotAtomic(std::unique_ptr<LogApi> inner, runtime::Executor& executor)
      : ForwardingLogApi(std::move(inner)), executor_(executor) {}
  absl::StatusOr<wal::AppendResult> AppendBatch(
      absl::Span<const std::string_view> payloads) override {
    wal::AppendResult result;
    for (size_t i = 0; i < payloads.size(); ++i) {
      if (i > 0) executor_.Yield();  // as if it waited for room record by record
      absl::StatusOr<wal::AppendResult> one = inner().Append(payloads[i]);
      if (!one.ok()) return one.status();
      if (i == 0) result.first_sequence = one->first_sequence;
      result.last_sequence = one->last_sequence;
      result.durable = one->durable;
    }
    return result;
  }

 private:
  runtime::Executor& executor_;
};

class BatchFutureOnFirst final : public ForwardingLogApi {
 public:
  BatchFutureOnFirst(std::unique_ptr<LogApi> inner, runtime::Executor& executor)
      : ForwardingLogApi(std::move(inner)), executor_(executor) {}
  absl::StatusOr<wal::AppendResult> AppendBatch(
      absl::Span<const std::string_view> payloads) override {
    absl::StatusOr<wal::AppendResult> result = inner().AppendBatch(payloads);
    if (!result.ok() || result->first_sequence == result->last_sequence) return result;
    auto promise = std::make_shared<runtime::Promise<uint64_t>>(executor_);
    runtime::Future<uint64_t> inner_future = result->durable;
    result->durable = promise->GetFuture();
    const uint64_t first = result->first_sequence;
    executor_.StartFiber("batch-future", [promise, inner_future, first]() mutable {
      const absl::StatusOr<uint64_t>& durable = inner_future.Get();
      promise->Set(durable.ok() ? absl::StatusOr<uint64_t>(first) : durable);
    });
    return result;
  }

 private:
  runtime::Executor& executor_;
};

class HealthHidesFailure final : public ForwardingLogApi {
 public:
  using ForwardingLogApi::ForwardingLogApi;
  absl::Status health() const override { return absl::OkStatus(); }
};

class DurableLagsAfterOpen final : public ForwardingLogApi {
 public:
  explicit DurableLagsAfterOpen(std::unique_ptr<LogApi> inner)
      : ForwardingLogApi(std::move(inner)), recovered_end_(this->inner().durable_sequence()) {}
  uint64_t durable_sequence() const override {
    const uint64_t durable = inner().durable_sequence();
    return durable == recovered_end_ && durable > 0 ? durable - 1 : durable;
  }

 private:
  const uint64_t recovered_end_;
};

class ReleaseOffByOne final : public ForwardingLogApi {
 public:
  using ForwardingLogApi::ForwardingLogApi;
  absl::Status Release(uint64_t below_sequence) override {
    return inner().Release(below_sequence + 1);
  }
};

class ReaderSkipsAfterCaughtUp final : public ForwardingLogApi {
 public:
  using ForwardingLogApi::ForwardingLogApi;
  absl::StatusOr<std::unique_ptr<LogReaderApi>> NewReader(uint64_t from_sequence) override {
    absl::StatusOr<std::unique_ptr<LogReaderApi>> reader = inner().NewReader(from_sequence);
    if (!reader.ok()) return reader;
    return std::unique_ptr<LogReaderApi>(std::make_unique<Reader>(*std::move(reader)));
  }

 private:
  class Reader final : public LogReaderApi {
   public:
    explicit Reader(std::unique_ptr<LogReaderApi> inner) : inner_(std::move(inner)) {}
    absl::StatusOr<std::optional<wal::Record>> Next() override {
      absl::StatusOr<std::optional<wal::Record>> next = inner_->Next();
      if (next.ok() && next->has_value() && caught_up_) {
        caught_up_ = false;
        next = inner_->Next();  // the position advanced twice
      }
      if (next.ok() && !next->has_value()) caught_up_ = true;
      return next;
    }
    uint64_t next_sequence() const override { return inner_->next_sequence(); }

   private:
    std::unique_ptr<LogReaderApi> inner_;
    bool caught_up_ = false;
  };
};

class ReaderSeekOffByOne final : public ForwardingLogApi {
 public:
  using ForwardingLogApi::ForwardingLogApi;
  absl::StatusOr<std::unique_ptr<LogReaderApi>> NewReader(uint64_t from_sequence) override {
    if (from_sequence > inner().first_sequence() && from_sequence <= inner().durable_sequence()) {
      return inner().NewReader(from_sequence + 1);
    }
    return inner().NewReader(from_sequence);
  }
};

class NewReaderClampsReleased final : public ForwardingLogApi {
 public:
  using ForwardingLogApi::ForwardingLogApi;
  absl::StatusOr<std::unique_ptr<LogReaderApi>> NewReader(uint64_t from_sequence) override {
    return inner().NewReader(std::max(from_sequence, inner().first_sequence()));
  }
};

class ReleaseWithoutDirSync final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;
  absl::Status Remove(std::string_view path) override {
    removed_ = true;
    return ForwardingFileSystem::Remove(path);
  }
  absl::Status SyncDir(std::string_view dir) override {
    const bool after_removal = removed_;
    removed_ = false;
    if (after_removal) return absl::OkStatus();
    return ForwardingFileSystem::SyncDir(dir);
  }

 private:
  bool removed_ = false;
};

class RecoveryTruncateUnsynced final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view,
                                     std::unique_ptr<io::File> file) override {
    return std::make_unique<File>(std::move(file));
  }

 private:
  class File final : public ForwardingFile {
   public:
    using ForwardingFile::ForwardingFile;
    absl::Status Truncate(uint64_t size_bytes) override {
      truncated_ = true;
      return ForwardingFile::Truncate(size_bytes);
    }
    absl::Status Sync() override {
      const bool after_truncate = truncated_;
      truncated_ = false;
      if (after_truncate) return absl::OkStatus();
      return ForwardingFile::Sync();
    }

   private:
    bool truncated_ = false;
  };
};

class RecoveryCutsBeforeRefusing final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;
  // Recovery lists the directory first: every segment is cut there.
  absl::StatusOr<std::vector<std::string>> List(std::string_view dir) override {
    absl::StatusOr<std::vector<std::string>> names = ForwardingFileSystem::List(dir);
    if (!names.ok()) return names;
    for (const std::string& name : *names) {
      if (!wal::format::ParseSegmentName(name).has_value()) continue;
      const std::string path = io::JoinPath(dir, name);
      const std::optional<uint64_t> bad_at = FirstBadSegmentOffset(inner(), path);
      if (!bad_at.has_value() || *bad_at == 0) continue;
      absl::StatusOr<std::unique_ptr<io::File>> file = inner().Open(path, io::OpenMode::kReadWrite);
      if (file.ok()) (void)(*file)->Truncate(*bad_at);
    }
    return names;
  }
};

class HeaderSequenceBigEndian final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view path,
                                     std::unique_ptr<io::File> file) override {
    const std::string_view name = path.substr(path.rfind('/') + 1);
    if (!wal::format::ParseSegmentName(name).has_value()) return file;
    return std::make_unique<File>(std::move(file));
  }

 private:
  // first_sequence's bytes [16, 24) of the header are stored reversed.
  static constexpr uint64_t kFieldBegin = 16;
  static constexpr uint64_t kFieldEnd = 24;
  static uint64_t Mirror(uint64_t at) { return kFieldBegin + kFieldEnd - 1 - at; }

  class File final : public ForwardingFile {
   public:
    using ForwardingFile::ForwardingFile;
    absl::Status WriteAt(uint64_t offset, absl::Span<const char> data) override {
      if (offset > kFieldBegin || offset + data.size() < kFieldEnd) {
        return ForwardingFile::WriteAt(offset, data);
      }
      std::string stored(data.data(), data.size());
      for (uint64_t at = kFieldBegin; at < kFieldEnd; ++at) {
        stored[at - offset] = data[Mirror(at) - offset];
      }
      return ForwardingFile::WriteAt(offset, absl::Span<const char>(stored.data(), stored.size()));
    }
    absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) override {
      absl::StatusOr<size_t> got = ForwardingFile::ReadAt(offset, out);
      if (!got.ok() || offset >= kFieldEnd || offset + *got <= kFieldBegin) return got;
      char field[kFieldEnd - kFieldBegin];
      absl::StatusOr<size_t> field_got =
          ForwardingFile::ReadAt(kFieldBegin, absl::Span<char>(field, sizeof(field)));
      if (!field_got.ok()) return field_got.status();
      if (*field_got < sizeof(field)) return got;  // a torn header: left as it is
      for (uint64_t at = std::max(offset, kFieldBegin); at < std::min(offset + *got, kFieldEnd);
           ++at) {
        out[at - offset] = field[Mirror(at) - kFieldBegin];
      }
      return got;
    }
  };
};

}  // namespace faultline::scenarios::testing
