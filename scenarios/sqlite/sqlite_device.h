// scenarios/sqlite/sqlite_device.h — what the VFS tells SQLite about the
// simulated disk: its sector size and device characteristics, derived from
// the disk's options so that SQLite is never promised what the crash model
// does not honour.
#pragma once

#include <cstdint>

#include "sim/disk/sim_file_system.h"

namespace faultline::scenarios::sqlite {

struct SqliteDevice {
  uint32_t sector_size_bytes = 512;  // xSectorSize
  int device_characteristics = 0;    // xDeviceCharacteristics (SQLITE_IOCAP_*)
};

// With powersafe overwrite a torn write damages nothing outside its range:
// the sector is the logical one, and SQLITE_IOCAP_POWERSAFE_OVERWRITE holds.
// Without it a torn write may trash every physical sector it touches, so
// SQLite must treat the physical sector as the unit it cannot write alone
// (it then journals, and pads WAL commits to, whole sectors).
SqliteDevice SqliteDeviceOf(const sim::disk::DiskOptions& disk);

}  // namespace faultline::scenarios::sqlite
