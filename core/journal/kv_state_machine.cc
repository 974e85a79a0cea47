// core/journal/kv_state_machine.cc — see kv_state_machine.h.
#include "core/journal/kv_state_machine.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/journal/snapshot_format.h"

namespace faultline::journal {
namespace {

constexpr char kPut = 0x01;
constexpr char kDelete = 0x02;
constexpr size_t kRecordHeaderBytes = 5;   // op, key_bytes
constexpr size_t kEntryHeaderBytes = 8;    // key_bytes, value_bytes
constexpr size_t kCountBytes = 8;

struct DecodedRecord {
  char op = 0;
  std::string_view key;
  std::string_view value;
};

absl::Status Decode(std::string_view record, DecodedRecord* out) {
  if (record.size() < kRecordHeaderBytes) {
    return absl::InvalidArgumentError("kv record shorter than its header");
  }
  out->op = record[0];
  const uint32_t key_bytes = format::GetU32(record.substr(1));
  if (out->op != kPut && out->op != kDelete) {
    return absl::InvalidArgumentError(absl::StrCat("kv record with unknown op ",
                                                   static_cast<int>(out->op)));
  }
  if (key_bytes == 0 || key_bytes > KvStateMachine::kMaxKeyBytes ||
      key_bytes > record.size() - kRecordHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat("kv record with bad key length ", key_bytes));
  }
  out->key = record.substr(kRecordHeaderBytes, key_bytes);
  out->value = record.substr(kRecordHeaderBytes + key_bytes);
  if (out->op == kDelete && !out->value.empty()) {
    return absl::InvalidArgumentError("kv delete record with a value");
  }
  if (out->value.size() > KvStateMachine::kMaxValueBytes) {
    return absl::InvalidArgumentError("kv record value too large");
  }
  return absl::OkStatus();
}

std::string Encode(char op, std::string_view key, std::string_view value) {
  std::string record(kRecordHeaderBytes, '\0');
  record[0] = op;
  format::PutU32(&record[1], static_cast<uint32_t>(key.size()));
  record.append(key.data(), key.size());
  record.append(value.data(), value.size());
  return record;
}

}  // namespace

std::string KvStateMachine::EncodePut(std::string_view key, std::string_view value) {
  return Encode(kPut, key, value);
}

std::string KvStateMachine::EncodeDelete(std::string_view key) {
  return Encode(kDelete, key, {});
}

absl::Status KvStateMachine::Validate(std::string_view record) const {
  DecodedRecord decoded;
  return Decode(record, &decoded);
}

absl::Status KvStateMachine::Apply(uint64_t /*sequence*/, std::string_view record) {
  DecodedRecord decoded;
  absl::Status status = Decode(record, &decoded);
  if (!status.ok()) return status;
  if (decoded.op == kPut) {
    entries_.insert_or_assign(std::string(decoded.key), std::string(decoded.value));
  } else {
    entries_.erase(std::string(decoded.key));
  }
  return absl::OkStatus();
}

absl::Status KvStateMachine::WriteSnapshot(SnapshotSink& sink) const {
  char count[kCountBytes];
  format::PutU64(count, entries_.size());
  absl::Status status = sink.Write(std::string_view(count, sizeof(count)));
  // Bounded by the number of entries.
  for (auto it = entries_.begin(); status.ok() && it != entries_.end(); ++it) {
    char header[kEntryHeaderBytes];
    format::PutU32(header, static_cast<uint32_t>(it->first.size()));
    format::PutU32(header + 4, static_cast<uint32_t>(it->second.size()));
    status = sink.Write(std::string_view(header, sizeof(header)));
    if (status.ok()) status = sink.Write(it->first);
    if (status.ok()) status = sink.Write(it->second);
  }
  return status;
}

void KvStateMachine::Clear() {
  entries_.clear();
  std::string().swap(partial_);
  have_count_ = false;
  entries_left_ = 0;
}

absl::Status KvStateMachine::RestoreChunk(std::string_view bytes) {
  size_t used = 0;
  if (partial_.empty()) {
    // The common case: parse the chunk in place, keep only its incomplete tail.
    absl::Status status = Parse(bytes, &used);
    if (!status.ok()) return status;
    partial_.assign(bytes.data() + used, bytes.size() - used);
    return absl::OkStatus();
  }
  partial_.append(bytes.data(), bytes.size());
  absl::Status status = Parse(partial_, &used);
  if (!status.ok()) return status;
  partial_.erase(0, used);
  return absl::OkStatus();
}

absl::Status KvStateMachine::Parse(std::string_view buffered, size_t* used) {
  size_t pos = 0;
  // Bounded: each iteration consumes a count or an entry, or leaves.
  while (true) {
    const std::string_view rest = buffered.substr(pos);
    if (!have_count_) {
      if (rest.size() < kCountBytes) break;
      entries_left_ = format::GetU64(rest);
      have_count_ = true;
      pos += kCountBytes;
      continue;
    }
    if (entries_left_ == 0) {
      if (!rest.empty()) return absl::DataLossError("kv snapshot has bytes past its last entry");
      break;
    }
    if (rest.size() < kEntryHeaderBytes) break;
    const uint32_t key_bytes = format::GetU32(rest);
    const uint32_t value_bytes = format::GetU32(rest.substr(4));
    if (key_bytes == 0 || key_bytes > kMaxKeyBytes || value_bytes > kMaxValueBytes) {
      return absl::DataLossError(absl::StrCat("kv snapshot entry with bad lengths ", key_bytes,
                                              "/", value_bytes));
    }
    const size_t entry_bytes = kEntryHeaderBytes + key_bytes + value_bytes;
    if (rest.size() < entry_bytes) break;
    const std::string_view key = rest.substr(kEntryHeaderBytes, key_bytes);
    if (!entries_.empty() && key <= std::string_view(entries_.rbegin()->first)) {
      return absl::DataLossError("kv snapshot keys out of order");
    }
    entries_.emplace_hint(entries_.end(), std::string(key),
                          std::string(rest.substr(kEntryHeaderBytes + key_bytes, value_bytes)));
    --entries_left_;
    pos += entry_bytes;
  }
  *used = pos;
  return absl::OkStatus();
}

absl::Status KvStateMachine::FinishRestore() {
  if (!have_count_ || entries_left_ != 0 || !partial_.empty()) {
    return absl::DataLossError("kv snapshot ends before its last entry");
  }
  std::string().swap(partial_);
  return absl::OkStatus();
}

}  // namespace faultline::journal
