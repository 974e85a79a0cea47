// bench/wal/wal_on_loop.h — opening and closing a Wal on a core/posix
// EventLoop from outside its fibers, as the WAL benchmark programs do
// between measured rounds. Benchmark code: errors abort.
#pragma once

#include <memory>
#include <string_view>
#include <utility>

#include "core/base/check.h"
#include "core/io/file_system.h"
#include "core/posix/event_loop.h"
#include "core/wal/wal.h"

namespace faultline::wal {

// Opens (recovers or creates) the Wal in `dir` of `fs` with `options` (the
// defaults unless given) and returns once it is open; its flusher fiber
// waits for the next Run().
inline std::unique_ptr<Wal> OpenWalOnLoop(posix::EventLoop& loop, io::FileSystem& fs,
                                          std::string_view dir,
                                          const WalOptions& options = WalOptions{}) {
  std::unique_ptr<Wal> wal;
  loop.StartFiber("open", [&] {
    auto opened = Wal::Open(fs, loop, dir, options);
    FAULTLINE_CHECK_MSG(opened.ok(), "Wal::Open failed");
    wal = *std::move(opened);
    loop.Stop();  // the flusher fiber keeps Run() going otherwise
  });
  loop.Run();
  return wal;
}

// Closes `wal` (everything queued becomes durable first) and destroys it.
inline void CloseWalOnLoop(posix::EventLoop& loop, std::unique_ptr<Wal> wal) {
  loop.StartFiber("close", [&] {
    FAULTLINE_CHECK(wal->Close().ok());
    wal.reset();
  });
  loop.Run();
}

}  // namespace faultline::wal
