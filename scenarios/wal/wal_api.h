// scenarios/wal/wal_api.h — every public call of wal::Wal and wal::WalReader
// behind an interface, as the WAL scenarios' workload makes them.
//
// The scenarios call the WAL only through LogApi, so that a test can put a
// decorator between them and the production WAL and plant a defect at the
// API boundary (a Flush that does not wait, a reader that skips a record;
// tests/scenarios/buggy_wal_plants.h). The registry's runs use ProductionWal,
// which forwards every call unchanged. Contracts are wal.h's.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/wal/wal.h"

namespace faultline::scenarios {

class LogReaderApi {
 public:
  virtual ~LogReaderApi() = default;
  virtual absl::StatusOr<std::optional<wal::Record>> Next() = 0;
  virtual uint64_t next_sequence() const = 0;
};

class LogApi {
 public:
  virtual ~LogApi() = default;
  virtual absl::StatusOr<wal::AppendResult> Append(std::string_view payload) = 0;
  virtual absl::StatusOr<wal::AppendResult> AppendBatch(
      absl::Span<const std::string_view> payloads) = 0;
  virtual absl::Status Flush() = 0;
  virtual absl::Status Close() = 0;
  virtual uint64_t durable_sequence() const = 0;
  virtual uint64_t last_sequence() const = 0;
  virtual uint64_t first_sequence() const = 0;
  virtual absl::Status health() const = 0;
  virtual absl::StatusOr<std::unique_ptr<LogReaderApi>> NewReader(uint64_t from_sequence) = 0;
  virtual absl::Status Release(uint64_t below_sequence) = 0;
};

// The production WAL, owned; every call forwarded unchanged.
class ProductionWal final : public LogApi {
 public:
  explicit ProductionWal(std::unique_ptr<wal::Wal> wal) : wal_(std::move(wal)) {}
  absl::StatusOr<wal::AppendResult> Append(std::string_view payload) override {
    return wal_->Append(payload);
  }
  absl::StatusOr<wal::AppendResult> AppendBatch(
      absl::Span<const std::string_view> payloads) override {
    return wal_->AppendBatch(payloads);
  }
  absl::Status Flush() override { return wal_->Flush(); }
  absl::Status Close() override { return wal_->Close(); }
  uint64_t durable_sequence() const override { return wal_->durable_sequence(); }
  uint64_t last_sequence() const override { return wal_->last_sequence(); }
  uint64_t first_sequence() const override { return wal_->first_sequence(); }
  absl::Status health() const override { return wal_->health(); }
  absl::StatusOr<std::unique_ptr<LogReaderApi>> NewReader(uint64_t from_sequence) override;
  absl::Status Release(uint64_t below_sequence) override { return wal_->Release(below_sequence); }

 private:
  class Reader;
  std::unique_ptr<wal::Wal> wal_;
};

class ProductionWal::Reader final : public LogReaderApi {
 public:
  explicit Reader(std::unique_ptr<wal::WalReader> reader) : reader_(std::move(reader)) {}
  absl::StatusOr<std::optional<wal::Record>> Next() override { return reader_->Next(); }
  uint64_t next_sequence() const override { return reader_->next_sequence(); }

 private:
  std::unique_ptr<wal::WalReader> reader_;
};

inline absl::StatusOr<std::unique_ptr<LogReaderApi>> ProductionWal::NewReader(
    uint64_t from_sequence) {
  absl::StatusOr<std::unique_ptr<wal::WalReader>> reader = wal_->NewReader(from_sequence);
  if (!reader.ok()) return reader.status();
  return std::unique_ptr<LogReaderApi>(std::make_unique<Reader>(*std::move(reader)));
}

// Forwards every call to an owned inner LogApi: the base of decorators.
class ForwardingLogApi : public LogApi {
 public:
  explicit ForwardingLogApi(std::unique_ptr<LogApi> inner) : inner_(std::move(inner)) {}
  absl::StatusOr<wal::AppendResult> Append(std::string_view payload) override {
    return inner_->Append(payload);
  }
  absl::StatusOr<wal::AppendResult> AppendBatch(
      absl::Span<const std::string_view> payloads) override {
    return inner_->AppendBatch(payloads);
  }
  absl::Status Flush() override { return inner_->Flush(); }
  absl::Status Close() override { return inner_->Close(); }
  uint64_t durable_sequence() const override { return inner_->durable_sequence(); }
  uint64_t last_sequence() const override { return inner_->last_sequence(); }
  uint64_t first_sequence() const override { return inner_->first_sequence(); }
  absl::Status health() const override { return inner_->health(); }
  absl::StatusOr<std::unique_ptr<LogReaderApi>> NewReader(uint64_t from_sequence) override {
    return inner_->NewReader(from_sequence);
  }
  absl::Status Release(uint64_t below_sequence) override {
    return inner_->Release(below_sequence);
  }

 protected:
  LogApi& inner() { return *inner_; }
  const LogApi& inner() const { return *inner_; }

 private:
  std::unique_ptr<LogApi> inner_;
};

}  // namespace faultline::scenarios
