// tests/sim/disk/transient_read_eio_test.cc — read EIO by rate
// (FaultRates::read_eio_ppm) is a transient error: the read that retries it
// at once, on the same file, gets the data. A sector that fails every read
// is a latent sector error (AddLatentSectorError, unreadable torn sectors),
// a fault of its own.
#include <string>

#include <gtest/gtest.h>

#include "core/io/errors.h"
#include "tests/sim/disk/sim_disk_world.h"

namespace faultline::sim::disk::testing {
namespace {

TEST(TransientReadEioTest, AnImmediateRetryOfTheSameFileReads) {
  FaultPlan plan;
  plan.rates.read_eio_ppm = 1'000'000;  // every read fails, but for retries
  World world(plan);
  std::vector<bool> ok;
  world.scheduler.StartFiberOn(world.node, "reader", [&] {
    auto file = world.fs().Open("f", io::OpenMode::kCreate).value();
    ASSERT_TRUE(file->Append(Bytes("abc")).ok());
    auto other = world.fs().Open("g", io::OpenMode::kCreate).value();
    ASSERT_TRUE(other->Append(Bytes("xyz")).ok());
    std::string out(3, '\0');
    for (io::File* reading : {file.get(), file.get(), file.get(), other.get(), file.get()}) {
      auto read = reading->ReadAt(0, absl::Span<char>(out.data(), out.size()));
      EXPECT_TRUE(read.ok() || io::IsIoError(read.status())) << read.status();
      ok.push_back(read.ok());
    }
  });
  ASSERT_TRUE(world.scheduler.Run().ok());
  // f fails, its retry reads, f fails again, g fails, f fails (not a retry).
  EXPECT_EQ(ok, (std::vector<bool>{false, true, false, false, false}));
  EXPECT_EQ(world.disk.stats().count(FaultKind::kReadEio), 4u);
}

}  // namespace
}  // namespace faultline::sim::disk::testing
