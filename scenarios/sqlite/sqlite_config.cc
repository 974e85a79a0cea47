// scenarios/sqlite/sqlite_config.cc — see sqlite_config.h.
#include "scenarios/sqlite/sqlite_config.h"

#include "absl/strings/str_cat.h"
#include "core/base/absl_string_view.h"

namespace faultline::scenarios::sqlite {
namespace {

constexpr std::string_view kJournalNames[] = {"delete", "truncate", "persist", "wal"};
constexpr std::string_view kSyncNames[] = {"off", "normal", "full", "extra"};

template <size_t N>
int IndexOf(const std::string_view (&names)[N], std::string_view name) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

std::string ConfigName(const SqliteConfig& config) {
  return absl::StrCat(AsAbsl(kJournalNames[static_cast<int>(config.journal)]), ".",
                      AsAbsl(kSyncNames[static_cast<int>(config.synchronous)]));
}

absl::StatusOr<SqliteConfig> ParseConfig(std::string_view name) {
  const size_t dot = name.find('.');
  const std::string_view journal = name.substr(0, dot);
  const std::string_view sync = dot == std::string_view::npos ? "" : name.substr(dot + 1);
  const int j = IndexOf(kJournalNames, journal);
  const int s = IndexOf(kSyncNames, sync);
  if (j < 0 || s < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown SQLite configuration '", AsAbsl(name),
        "': expected <journal>.<synchronous>, journal one of delete, truncate, persist, wal; "
        "synchronous one of off, normal, full, extra"));
  }
  return SqliteConfig{static_cast<JournalMode>(j), static_cast<Synchronous>(s)};
}

SqlitePromise PromiseOf(const SqliteConfig& config) {
  const bool wal = config.journal == JournalMode::kWal;
  switch (config.synchronous) {
    case Synchronous::kOff:
      return {false, false,
              "safe from application crashes only; a power loss may lose transactions and corrupt"};
    case Synchronous::kNormal:
      if (wal) return {false, true, "consistent; a commit may roll back after a power loss"};
      if (config.journal == JournalMode::kDelete) {
        return {false, false,
                "\"a very small chance\" of corruption after a power loss (older file systems); "
                "durability not promised"};
      }
      return {false, true, "syncs \"at the most critical moments\": consistent; durability across "
                           "a power loss not promised"};
    case Synchronous::kFull:
      if (config.journal == JournalMode::kDelete) {
        return {false, true,
                "no corruption; the journal's unlink is not synced, so a commit just before a "
                "power loss may roll back (EXTRA closes that)"};
      }
      return {true, true, "durable and consistent across power loss"};
    case Synchronous::kExtra:
      return {true, true, "durable and consistent across power loss"};
  }
  return {};
}

std::vector<SqliteConfig> AllConfigs() {
  std::vector<SqliteConfig> all;
  for (int j = 0; j < 4; ++j) {
    for (int s = 0; s < 4; ++s) all.push_back({static_cast<JournalMode>(j), static_cast<Synchronous>(s)});
  }
  return all;
}

std::vector<SqliteConfig> DurableConfigs() {
  std::vector<SqliteConfig> durable;
  for (const SqliteConfig& config : AllConfigs()) {
    if (PromiseOf(config).durable_on_power_loss) durable.push_back(config);
  }
  return durable;
}

std::string ConfigPragmas(const SqliteConfig& config) {
  return absl::StrCat("PRAGMA journal_mode=", AsAbsl(kJournalNames[static_cast<int>(config.journal)]),
                      "; PRAGMA synchronous=", AsAbsl(kSyncNames[static_cast<int>(config.synchronous)]), ";");
}

}  // namespace faultline::scenarios::sqlite
