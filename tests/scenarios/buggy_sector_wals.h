// tests/scenarios/buggy_sector_wals.h — test-only WALs that are wrong only on
// devices whose sectors fail as real ones do (sim/disk device profiles), and
// the gentle device model they pass on (see docs/results/bug_detection.md).
//
//  PacksFramesOnAnyDevice  the production WAL with its batches packed
//      (WalOptions::sector_bytes = 0) whatever the device: the next batch
//      shares a sector with the last acknowledged frame. Sound under
//      powersafe overwrite; without it a torn batch can trash acknowledged
//      records. Faithful: it is the WAL as it was before sector alignment.
//  GivesUpOnReadErrors  recovery that cannot come up over an unreadable
//      sector: once a read of a file fails with an I/O error, every later
//      read of it fails too, so the WAL's sector-by-sector re-read finds
//      nothing readable and Open fails. Faithful in effect to the WAL before
//      the fix, whose Open returned the read's EIO whenever a torn tail was
//      left unreadable, crash after crash.
//  GentleSectors  the device model before the profiles: powersafe
//      overwrite, logical = physical sector, torn sectors always readable,
//      no read EIO by rate, no latent sector planted: sectors never fail.
#pragma once

#include <memory>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "core/io/errors.h"
#include "scenarios/io/forwarding_file_system.h"
#include "scenarios/wal/wal_swarm.h"

namespace faultline::scenarios::testing {

inline void PacksFramesOnAnyDevice(WalSwarm& swarm) { swarm.wal.sector_bytes = 0; }

inline void GentleSectors(WalSwarm& swarm) {
  swarm.disk.disk.powersafe_overwrite = true;
  swarm.disk.disk.physical_sector_bytes = 0;
  swarm.disk.disk.torn_sectors_unreadable = false;
  // And no read EIO by rate: GivesUpOnReadErrors repeats any read error, so
  // it would make a transient one permanent, which the WAL it stands for
  // never did (its Open returned the EIO and the next Open read).
  swarm.disk.plan.rates.read_eio_ppm = 0;
  // Its sectors never fail: no latent sector planted after the final
  // recovery either.
  if (swarm.damage == DurableDamage::kLatentSector) swarm.damage = DurableDamage::kNone;
}

class GivesUpOnReadErrorsFile final : public ForwardingFile {
 public:
  using ForwardingFile::ForwardingFile;
  absl::StatusOr<size_t> ReadAt(uint64_t offset, absl::Span<char> out) override {
    if (!failure_.ok()) return failure_;
    absl::StatusOr<size_t> got = ForwardingFile::ReadAt(offset, out);
    if (!got.ok() && io::IsIoError(got.status())) failure_ = got.status();
    return got;
  }

 private:
  absl::Status failure_;  // the first read's I/O error, repeated ever after
};

class GivesUpOnReadErrorsFileSystem final : public ForwardingFileSystem {
 public:
  using ForwardingFileSystem::ForwardingFileSystem;

 protected:
  std::unique_ptr<io::File> WrapFile(std::string_view, std::unique_ptr<io::File> file) override {
    return std::make_unique<GivesUpOnReadErrorsFile>(std::move(file));
  }
};

}  // namespace faultline::scenarios::testing
