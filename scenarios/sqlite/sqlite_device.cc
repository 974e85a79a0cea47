// scenarios/sqlite/sqlite_device.cc — see sqlite_device.h.
#include "scenarios/sqlite/sqlite_device.h"

#include <sqlite3.h>

#include <algorithm>

namespace faultline::scenarios::sqlite {

SqliteDevice SqliteDeviceOf(const sim::disk::DiskOptions& disk) {
  if (disk.powersafe_overwrite) {
    return {.sector_size_bytes = disk.atomic_unit_bytes,
            .device_characteristics = SQLITE_IOCAP_POWERSAFE_OVERWRITE};
  }
  return {.sector_size_bytes = std::max(disk.atomic_unit_bytes, disk.physical_sector_bytes),
          .device_characteristics = 0};
}

}  // namespace faultline::scenarios::sqlite
