// tests/core/io/file_system_contract.h — the io::FileSystem / io::File
// contract (core/io/file_system.h) as reusable GoogleTest typed tests.
//
// Written once, run against every implementation (core/posix on a real
// directory, sim/disk on the simulated disk), so that both worlds agree on
// what production code may rely on. Only the non-crash contract is checked
// here: what a crash may lose is the simulated disk's own business.
//
// HOW TO USE — write a Factory and instantiate the suite:
//
//   struct MyFactory {
//     MyFactory();   // sets up a fresh, EMPTY file system and an executor
//     ~MyFactory();  // tears everything down (temp dirs, etc.)
//
//     // The file system under test. Used only from fibers started by
//     // RunInFiber (and fibers those spawn on executor()).
//     faultline::io::FileSystem& fs();
//
//     // The executor the fibers run on (for Spawn inside a test body).
//     faultline::runtime::Executor& executor();
//
//     // Runs `body` as a fiber on executor() and returns once it and every
//     // fiber it spawned finished. Must report a gtest failure (ADD_FAILURE)
//     // if the run did not complete (deadlock, budget, escaped exception).
//     void RunInFiber(absl::AnyInvocable<void() &&> body);
//   };
//
//   INSTANTIATE_TYPED_TEST_SUITE_P(My, FileSystemContractTest,
//                                  ::testing::Types<MyFactory>);
//
// Behaviour asserted here that core/io/file_system.h implies but does not
// spell out (POSIX semantics, which sim/disk must match):
//  * Open(kCreate*) under a missing directory, List of a missing directory,
//    Rename or Remove of a missing file: NotFound;
//  * every call validates its paths first (io::ValidatePath): Open, Rename,
//    Remove and Exists refuse "" too; CreateDir, List and SyncDir take "" as
//    the root;
//  * an open File keeps working after its path is renamed (or its
//    directory's);
//  * Rename moves a directory with everything in it, replacing an empty
//    target directory; onto a non-empty directory or a file it fails and
//    changes nothing; into its own subtree it is InvalidArgument;
//  * Close does not lose data: a fresh handle reads what was written;
//  * a call in flight when another fiber closes the handle completes on
//    that file or fails with FailedPrecondition;
//  * Sync/SyncDir with nothing dirty succeed;
//  * a zero-length WriteAt/Append changes nothing, even past the end.
//
// RandomOperationsMatchModel runs RapidCheck (with shrinking) inside the
// fiber: give fibers at least 256 KiB of stack.
//
// One Factory is constructed per test (it is a member of the fixture), so
// each test starts from an empty file system. Test bodies use EXPECT_*/
// ASSERT_* inside the fiber; ASSERT_* returns from the body's lambda only.
#pragma once

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "core/io/file_system.h"
#include "core/runtime/executor.h"
#include "core/runtime/spawn.h"

namespace faultline::io::contract {

// Helpers shared by the suites: bytes as spans, whole-file reads.
inline absl::Span<const char> Bytes(std::string_view text) {
  return absl::Span<const char>(text.data(), text.size());
}

// Reads `length_bytes` at `offset`; the string is cut to what was read.
inline absl::StatusOr<std::string> ReadString(File& file, uint64_t offset, size_t length_bytes) {
  std::string buffer(length_bytes, '\0');
  absl::StatusOr<size_t> read = file.ReadAt(offset, absl::Span<char>(buffer.data(), buffer.size()));
  if (!read.ok()) return read.status();
  if (*read > length_bytes) return absl::InternalError("ReadAt returned more than asked");
  buffer.resize(*read);
  return buffer;
}

// The whole current content of `file` (bounded by its Size()).
inline absl::StatusOr<std::string> ReadAll(File& file) {
  absl::StatusOr<uint64_t> size = file.Size();
  if (!size.ok()) return size.status();
  return ReadString(file, 0, static_cast<size_t>(*size));
}

// Creates (or truncates) `path` with `content`.
inline absl::Status WriteFile(FileSystem& fs, std::string_view path, std::string_view content) {
  absl::StatusOr<std::unique_ptr<File>> file = fs.Open(path, OpenMode::kCreateTruncate);
  if (!file.ok()) return file.status();
  absl::Status status = (*file)->WriteAt(0, Bytes(content));
  if (!status.ok()) return status;
  return (*file)->Close();
}

// The content of `path`, or its open/read error.
inline absl::StatusOr<std::string> ReadFile(FileSystem& fs, std::string_view path) {
  absl::StatusOr<std::unique_ptr<File>> file = fs.Open(path, OpenMode::kReadWrite);
  if (!file.ok()) return file.status();
  return ReadAll(**file);
}

}  // namespace faultline::io::contract

template <typename Factory>
class FileSystemContractTest : public ::testing::Test {
 protected:
  // Runs `body(fs)` in a fiber of a fresh world.
  template <typename Body>
  void Run(Body body) {
    bool ran = false;
    factory_.RunInFiber([this, &ran, body = std::move(body)]() mutable {
      ran = true;
      body(factory_.fs());
    });
    // A body that never ran would pass every test without checking anything.
    EXPECT_TRUE(ran) << "the test body never ran in a fiber";
  }

  Factory factory_;
};

TYPED_TEST_SUITE_P(FileSystemContractTest);

// --- open modes --------------------------------------------------------------

TYPED_TEST_P(FileSystemContractTest, OpenReadWriteOfMissingFileIsNotFound) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    auto file = fs.Open("missing", OpenMode::kReadWrite);
    EXPECT_TRUE(absl::IsNotFound(file.status())) << file.status();
  });
}

TYPED_TEST_P(FileSystemContractTest, CreateExclusiveOfExistingFileIsAlreadyExists) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    auto first = fs.Open("f", OpenMode::kCreateExclusive);
    ASSERT_TRUE(first.ok()) << first.status();
    auto second = fs.Open("f", OpenMode::kCreateExclusive);
    EXPECT_TRUE(absl::IsAlreadyExists(second.status())) << second.status();
  });
}

TYPED_TEST_P(FileSystemContractTest, CreateKeepsExistingContents) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    ASSERT_TRUE(contract::WriteFile(fs, "f", "hello").ok());
    auto file = fs.Open("f", OpenMode::kCreate);
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ(contract::ReadAll(**file).value_or("<error>"), "hello");
    auto fresh = fs.Open("g", OpenMode::kCreate);
    ASSERT_TRUE(fresh.ok()) << fresh.status();
    EXPECT_EQ((*fresh)->Size().value_or(99), 0u);
  });
}

TYPED_TEST_P(FileSystemContractTest, CreateTruncateEmptiesExistingFile) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    ASSERT_TRUE(contract::WriteFile(fs, "f", "hello").ok());
    auto file = fs.Open("f", OpenMode::kCreateTruncate);
    ASSERT_TRUE(file.ok()) << file.status();
    EXPECT_EQ((*file)->Size().value_or(99), 0u);
  });
}

TYPED_TEST_P(FileSystemContractTest, OpenInMissingDirectoryIsNotFound) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    auto file = fs.Open("no_such_dir/f", OpenMode::kCreate);
    EXPECT_TRUE(absl::IsNotFound(file.status())) << file.status();
  });
}

// --- reads and writes --------------------------------------------------------

TYPED_TEST_P(FileSystemContractTest, PositionalWriteAndRead) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    auto opened = fs.Open("f", OpenMode::kCreateExclusive);
    ASSERT_TRUE(opened.ok()) << opened.status();
    File& file = **opened;
    ASSERT_TRUE(file.WriteAt(0, contract::Bytes("0123456789")).ok());
    ASSERT_TRUE(file.WriteAt(3, contract::Bytes("abc")).ok());
    EXPECT_EQ(contract::ReadString(file, 0, 10).value_or("<error>"), "012abc6789");
    EXPECT_EQ(contract::ReadString(file, 4, 3).value_or("<error>"), "bc6");
    EXPECT_EQ(file.Size().value_or(0), 10u);
  });
}

TYPED_TEST_P(FileSystemContractTest, WriteAtPastEndLeavesZeroGap) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    auto opened = fs.Open("f", OpenMode::kCreateExclusive);
    ASSERT_TRUE(opened.ok()) << opened.status();
    File& file = **opened;
    ASSERT_TRUE(file.WriteAt(4, contract::Bytes("xy")).ok());
    EXPECT_EQ(file.Size().value_or(0), 6u);
    EXPECT_EQ(contract::ReadAll(file).value_or("<error>"), std::string("\0\0\0\0xy", 6));
    // A zero-length write past the end does not extend the file.
    ASSERT_TRUE(file.WriteAt(100, contract::Bytes("")).ok());
    EXPECT_EQ(file.Size().value_or(0), 6u);
  });
}

TYPED_TEST_P(FileSystemContractTest, WriteAtAndSyncWritesLikeWriteAt) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    auto opened = fs.Open("f", OpenMode::kCreateExclusive);
    ASSERT_TRUE(opened.ok()) << opened.status();
    File& file = **opened;
    ASSERT_TRUE(file.WriteAtAndSync(2, contract::Bytes("xyz")).ok());
    ASSERT_TRUE(file.WriteAtAndSync(0, contract::Bytes("ab")).ok());
    EXPECT_EQ(file.Size().value_or(0), 5u);
    EXPECT_EQ(contract::ReadAll(file).value_or("<error>"), "abxyz");
    ASSERT_TRUE(file.Close().ok());
    EXPECT_FALSE(file.WriteAtAndSync(0, contract::Bytes("q")).ok());
  });
}

TYPED_TEST_P(FileSystemContractTest, AppendWritesAtEndOfFile) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    auto opened = fs.Open("f", OpenMode::kCreateExclusive);
    ASSERT_TRUE(opened.ok()) << opened.status();
    File& file = **opened;
    ASSERT_TRUE(file.Append(contract::Bytes("abc")).ok());
    ASSERT_TRUE(file.Append(contract::Bytes("def")).ok());
    ASSERT_TRUE(file.WriteAt(1, contract::Bytes("X")).ok());
    ASSERT_TRUE(file.Append(contract::Bytes("g")).ok());
    EXPECT_EQ(contract::ReadAll(file).value_or("<error>"), "aXcdefg");
  });
}

TYPED_TEST_P(FileSystemContractTest, ReadsAtEndOfFileAreShort) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    ASSERT_TRUE(contract::WriteFile(fs, "f", "hello").ok());
    auto opened = fs.Open("f", OpenMode::kReadWrite);
    ASSERT_TRUE(opened.ok()) << opened.status();
    File& file = **opened;
    EXPECT_EQ(contract::ReadString(file, 3, 100).value_or("<error>"), "lo");
    EXPECT_EQ(contract::ReadString(file, 5, 10).value_or("<error>"), "");
    EXPECT_EQ(contract::ReadString(file, 1000, 10).value_or("<error>"), "");
    EXPECT_EQ(contract::ReadString(file, 0, 0).value_or("<error>"), "");
  });
}

TYPED_TEST_P(FileSystemContractTest, TruncateShrinksAndExtendsWithZeros) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    auto opened = fs.Open("f", OpenMode::kCreateExclusive);
    ASSERT_TRUE(opened.ok()) << opened.status();
    File& file = **opened;
    ASSERT_TRUE(file.Append(contract::Bytes("0123456789")).ok());
    ASSERT_TRUE(file.Truncate(4).ok());
    EXPECT_EQ(file.Size().value_or(0), 4u);
    EXPECT_EQ(contract::ReadAll(file).value_or("<error>"), "0123");
    ASSERT_TRUE(file.Truncate(7).ok());
    EXPECT_EQ(contract::ReadAll(file).value_or("<error>"), std::string("0123\0\0\0", 7));
    // Append continues from the new end.
    ASSERT_TRUE(file.Truncate(2).ok());
    ASSERT_TRUE(file.Append(contract::Bytes("z")).ok());
    EXPECT_EQ(contract::ReadAll(file).value_or("<error>"), "01z");
  });
}

TYPED_TEST_P(FileSystemContractTest, LargeWriteRoundTrips) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    std::string data(1 << 20, '\0');
    for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 131 + 7) % 251);
    auto opened = fs.Open("big", OpenMode::kCreateExclusive);
    ASSERT_TRUE(opened.ok()) << opened.status();
    ASSERT_TRUE((*opened)->Append(contract::Bytes(data)).ok());
    ASSERT_TRUE((*opened)->Sync().ok());
    ASSERT_TRUE((*opened)->Close().ok());
    EXPECT_TRUE(contract::ReadFile(fs, "big").value_or("<error>") == data);
  });
}

TYPED_TEST_P(FileSystemContractTest, SyncAndSyncDirSucceed) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    ASSERT_TRUE(fs.CreateDir("d").ok());
    auto opened = fs.Open("d/f", OpenMode::kCreateExclusive);
    ASSERT_TRUE(opened.ok()) << opened.status();
    ASSERT_TRUE((*opened)->Append(contract::Bytes("data")).ok());
    EXPECT_TRUE((*opened)->Sync().ok());
    EXPECT_TRUE((*opened)->Sync().ok());  // nothing dirty: still fine
    EXPECT_TRUE(fs.SyncDir("d").ok());
    EXPECT_TRUE(fs.SyncDir("").ok());
  });
}

// --- namespace operations ----------------------------------------------------

TYPED_TEST_P(FileSystemContractTest, RenameReplacesTarget) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    ASSERT_TRUE(contract::WriteFile(fs, "old", "old content").ok());
    ASSERT_TRUE(contract::WriteFile(fs, "new", "new content").ok());
    ASSERT_TRUE(fs.Rename("new", "old").ok());
    EXPECT_EQ(contract::ReadFile(fs, "old").value_or("<error>"), "new content");
    EXPECT_FALSE(fs.Exists("new").value_or(true));
    // Into a subdirectory, onto a missing target.
    ASSERT_TRUE(fs.CreateDir("d").ok());
    ASSERT_TRUE(fs.Rename("old", "d/moved").ok());
    EXPECT_EQ(contract::ReadFile(fs, "d/moved").value_or("<error>"), "new content");
    EXPECT_FALSE(fs.Exists("old").value_or(true));
  });
}

TYPED_TEST_P(FileSystemContractTest, OpenHandleSurvivesRename) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    auto opened = fs.Open("tmp", OpenMode::kCreateExclusive);
    ASSERT_TRUE(opened.ok()) << opened.status();
    ASSERT_TRUE((*opened)->Append(contract::Bytes("abc")).ok());
    ASSERT_TRUE(fs.Rename("tmp", "final").ok());
    ASSERT_TRUE((*opened)->Append(contract::Bytes("def")).ok());
    EXPECT_TRUE((*opened)->Sync().ok());
    EXPECT_EQ(contract::ReadFile(fs, "final").value_or("<error>"), "abcdef");
  });
}

TYPED_TEST_P(FileSystemContractTest, RenameMovesADirectoryWithEverythingInIt) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    ASSERT_TRUE(fs.CreateDir("d").ok());
    ASSERT_TRUE(fs.CreateDir("d/sub").ok());
    ASSERT_TRUE(fs.CreateDir("d-sibling").ok());  // sorts between "d" and "d/..."
    ASSERT_TRUE(contract::WriteFile(fs, "d/f", "top").ok());
    ASSERT_TRUE(contract::WriteFile(fs, "d/sub/g", "deep").ok());
    auto opened = fs.Open("d/f", OpenMode::kReadWrite);
    ASSERT_TRUE(opened.ok()) << opened.status();
    ASSERT_TRUE(fs.Rename("d", "e").ok());
    EXPECT_FALSE(fs.Exists("d").value_or(true));
    EXPECT_FALSE(fs.Exists("d/f").value_or(true));
    EXPECT_TRUE(fs.Exists("d-sibling").value_or(false));
    EXPECT_EQ(fs.List("e").value_or(std::vector<std::string>{}),
              (std::vector<std::string>{"f", "sub"}));
    EXPECT_EQ(contract::ReadFile(fs, "e/sub/g").value_or("<error>"), "deep");
    // A handle opened before the rename writes into the moved file.
    ASSERT_TRUE((*opened)->Append(contract::Bytes("+")).ok());
    EXPECT_EQ(contract::ReadFile(fs, "e/f").value_or("<error>"), "top+");
    EXPECT_TRUE(fs.SyncDir("").ok());
    EXPECT_TRUE(fs.SyncDir("e").ok());
    // Into another directory; then back, onto an empty directory, which it replaces.
    ASSERT_TRUE(fs.Rename("e", "d-sibling/e").ok());
    EXPECT_EQ(contract::ReadFile(fs, "d-sibling/e/f").value_or("<error>"), "top+");
    ASSERT_TRUE(fs.CreateDir("empty").ok());
    ASSERT_TRUE(fs.Rename("d-sibling/e", "empty").ok());
    EXPECT_EQ(contract::ReadFile(fs, "empty/sub/g").value_or("<error>"), "deep");
    EXPECT_EQ(fs.List("d-sibling").value_or(std::vector<std::string>{"<error>"}),
              std::vector<std::string>{});
  });
}

TYPED_TEST_P(FileSystemContractTest, DirectoryRenameRefusalsChangeNothing) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    ASSERT_TRUE(fs.CreateDir("a").ok());
    ASSERT_TRUE(fs.CreateDir("a/in").ok());
    ASSERT_TRUE(fs.CreateDir("full").ok());
    ASSERT_TRUE(contract::WriteFile(fs, "a/f", "x").ok());
    ASSERT_TRUE(contract::WriteFile(fs, "full/g", "y").ok());
    ASSERT_TRUE(contract::WriteFile(fs, "file", "z").ok());
    // Onto a directory that is not empty, onto a file, into itself, a file
    // onto a directory, into a missing directory: refused.
    EXPECT_FALSE(fs.Rename("a", "full").ok());
    EXPECT_FALSE(fs.Rename("a", "file").ok());
    EXPECT_TRUE(absl::IsInvalidArgument(fs.Rename("a", "a/in/a")));
    EXPECT_FALSE(fs.Rename("file", "a").ok());
    EXPECT_TRUE(absl::IsNotFound(fs.Rename("a", "missing/a")));
    EXPECT_EQ(fs.List("a").value_or(std::vector<std::string>{}),
              (std::vector<std::string>{"f", "in"}));
    EXPECT_EQ(contract::ReadFile(fs, "full/g").value_or("<error>"), "y");
    EXPECT_EQ(contract::ReadFile(fs, "file").value_or("<error>"), "z");
    EXPECT_EQ(contract::ReadFile(fs, "a/f").value_or("<error>"), "x");
  });
}

TYPED_TEST_P(FileSystemContractTest, RenameOfMissingFileIsNotFound) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    absl::Status status = fs.Rename("missing", "other");
    EXPECT_TRUE(absl::IsNotFound(status)) << status;
  });
}

TYPED_TEST_P(FileSystemContractTest, RemoveDeletesFile) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    ASSERT_TRUE(contract::WriteFile(fs, "f", "x").ok());
    EXPECT_TRUE(fs.Exists("f").value_or(false));
    ASSERT_TRUE(fs.Remove("f").ok());
    EXPECT_FALSE(fs.Exists("f").value_or(true));
    EXPECT_TRUE(absl::IsNotFound(fs.Open("f", OpenMode::kReadWrite).status()));
    absl::Status again = fs.Remove("f");
    EXPECT_TRUE(absl::IsNotFound(again)) << again;
  });
}

TYPED_TEST_P(FileSystemContractTest, CreateDirIsIdempotentAndHoldsFiles) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    ASSERT_TRUE(fs.CreateDir("d").ok());
    ASSERT_TRUE(fs.CreateDir("d").ok());
    ASSERT_TRUE(fs.CreateDir("d/e").ok());
    EXPECT_TRUE(fs.Exists("d").value_or(false));
    EXPECT_TRUE(fs.Exists("d/e").value_or(false));
    ASSERT_TRUE(contract::WriteFile(fs, "d/e/f", "deep").ok());
    EXPECT_EQ(contract::ReadFile(fs, "d/e/f").value_or("<error>"), "deep");
  });
}

TYPED_TEST_P(FileSystemContractTest, ListIsSortedBytewise) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    auto empty = fs.List("");
    ASSERT_TRUE(empty.ok()) << empty.status();
    EXPECT_TRUE(empty->empty());
    // Inserted out of order; includes upper/lower case, digits and a
    // byte >= 0x80, which sorts last bytewise (unsigned).
    std::vector<std::string> names = {"b", "B", "a10", "a9", "_x", "a", "z\xc3\xa9", "Z"};
    for (const std::string& name : names) ASSERT_TRUE(contract::WriteFile(fs, name, "").ok());
    ASSERT_TRUE(fs.CreateDir("dir").ok());
    ASSERT_TRUE(contract::WriteFile(fs, "dir/inner", "").ok());
    names.push_back("dir");
    std::sort(names.begin(), names.end());  // std::string compares bytes as unsigned
    auto listed = fs.List("");
    ASSERT_TRUE(listed.ok()) << listed.status();
    EXPECT_EQ(*listed, names);
    auto inner = fs.List("dir");
    ASSERT_TRUE(inner.ok()) << inner.status();
    EXPECT_EQ(*inner, std::vector<std::string>{"inner"});
    EXPECT_TRUE(absl::IsNotFound(fs.List("no_such_dir").status()));
  });
}

TYPED_TEST_P(FileSystemContractTest, ExistsReflectsCurrentState) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    EXPECT_FALSE(fs.Exists("f").value_or(true));
    EXPECT_FALSE(fs.Exists("d/f").value_or(true));
    auto opened = fs.Open("f", OpenMode::kCreateExclusive);
    ASSERT_TRUE(opened.ok());
    EXPECT_TRUE(fs.Exists("f").value_or(false));  // visible before any sync
  });
}

// --- locks -------------------------------------------------------------------

TYPED_TEST_P(FileSystemContractTest, LockFileIsExclusiveUntilReleased) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    EXPECT_TRUE(absl::IsNotFound(fs.LockFile("missing").status()));
    ASSERT_TRUE(fs.CreateDir("d").ok());
    ASSERT_TRUE(fs.Open("f", OpenMode::kCreateExclusive).ok());
    auto dir_lock = fs.LockFile("d");  // a directory can be locked
    ASSERT_TRUE(dir_lock.ok()) << dir_lock.status();
    auto file_lock = fs.LockFile("f");
    ASSERT_TRUE(file_lock.ok()) << file_lock.status();
    EXPECT_TRUE(absl::IsFailedPrecondition(fs.LockFile("d").status()));
    EXPECT_TRUE(absl::IsFailedPrecondition(fs.LockFile("f").status()));
    dir_lock->reset();
    auto again = fs.LockFile("d");
    EXPECT_TRUE(again.ok()) << again.status();
    EXPECT_TRUE(absl::IsFailedPrecondition(fs.LockFile("f").status()));
    EXPECT_EQ(fs.List("d").value_or(std::vector<std::string>{"?"}).size(), 0u)
        << "a lock creates nothing";
  });
}

TYPED_TEST_P(FileSystemContractTest, InvalidPathsAreInvalidArgument) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    const std::vector<std::string> bad = {"",  "/abs", "a/../b", "..",
                                          ".", "a//b", "a/",     std::string("a\0b", 3)};
    for (const std::string& path : bad) {
      SCOPED_TRACE(path);
      EXPECT_TRUE(absl::IsInvalidArgument(fs.Open(path, OpenMode::kCreate).status()));
      EXPECT_TRUE(absl::IsInvalidArgument(fs.Rename(path, "x")));
      EXPECT_TRUE(absl::IsInvalidArgument(fs.Remove(path)));
      EXPECT_TRUE(absl::IsInvalidArgument(fs.Exists(path).status()));
      if (!path.empty()) {  // "" is the root for these three
        EXPECT_TRUE(absl::IsInvalidArgument(fs.CreateDir(path)));
        EXPECT_TRUE(absl::IsInvalidArgument(fs.List(path).status()));
        EXPECT_TRUE(absl::IsInvalidArgument(fs.SyncDir(path)));
      }
    }
    ASSERT_TRUE(contract::WriteFile(fs, "x", "").ok());
    EXPECT_TRUE(absl::IsInvalidArgument(fs.Rename("x", "../escaped")));
    EXPECT_TRUE(fs.Exists("x").value_or(false));
  });
}

TYPED_TEST_P(FileSystemContractTest, OperationsAfterCloseFail) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    auto opened = fs.Open("f", OpenMode::kCreateExclusive);
    ASSERT_TRUE(opened.ok()) << opened.status();
    File& file = **opened;
    ASSERT_TRUE(file.Append(contract::Bytes("abc")).ok());
    ASSERT_TRUE(file.Close().ok());
    EXPECT_TRUE(file.Close().ok());  // idempotent
    char buffer[4];
    EXPECT_TRUE(absl::IsFailedPrecondition(file.ReadAt(0, absl::Span<char>(buffer, 4)).status()));
    EXPECT_TRUE(absl::IsFailedPrecondition(file.WriteAt(0, contract::Bytes("x"))));
    EXPECT_TRUE(absl::IsFailedPrecondition(file.Append(contract::Bytes("x"))));
    EXPECT_TRUE(absl::IsFailedPrecondition(file.Sync()));
    EXPECT_TRUE(absl::IsFailedPrecondition(file.Truncate(0)));
    EXPECT_TRUE(absl::IsFailedPrecondition(file.Size().status()));
    // Close did not lose the (unsynced but visible) data.
    EXPECT_EQ(contract::ReadFile(fs, "f").value_or("<error>"), "abc");
  });
}

// Closing a handle while another fiber's call on it is in flight: the call
// completes on this file or fails with FailedPrecondition, and never reaches
// another file — not even one opened meanwhile, which may get the number the
// handle's descriptor had (core/posix keeps it open until the call is done).
TYPED_TEST_P(FileSystemContractTest, CloseDuringAnotherFibersCallTouchesNoOtherFile) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    ASSERT_TRUE(contract::WriteFile(fs, "other", "other bytes").ok());
    auto opened = fs.Open("f", OpenMode::kCreateExclusive);
    ASSERT_TRUE(opened.ok()) << opened.status();
    File* file = opened->get();
    absl::Status written = absl::UnknownError("not run");
    auto writer = faultline::runtime::Spawn(this->factory_.executor(), "writer", [&] {
      written = file->WriteAtAndSync(0, contract::Bytes("abc"));
    });
    this->factory_.executor().Yield();  // the writer starts its call (and parks, if it does)
    ASSERT_TRUE(file->Close().ok());
    auto reopened = fs.Open("other", OpenMode::kReadWrite);
    ASSERT_TRUE(reopened.ok()) << reopened.status();
    writer.Join();
    EXPECT_TRUE(written.ok() || absl::IsFailedPrecondition(written)) << written;
    EXPECT_EQ(contract::ReadFile(fs, "other").value_or("<error>"), "other bytes");
    const std::string content = contract::ReadFile(fs, "f").value_or("<error>");
    EXPECT_TRUE(content == "abc" || (content.empty() && !written.ok())) << content;
  });
}

TYPED_TEST_P(FileSystemContractTest, ConcurrentFibersUseSeparateFiles) {
  using namespace faultline::io;
  constexpr int kFibers = 4;
  constexpr int kWritesPerFiber = 16;
  int finished = 0;
  this->Run([&](FileSystem& fs) {
    std::vector<faultline::runtime::JoinHandle> joins;
    for (int f = 0; f < kFibers; ++f) {
      joins.push_back(
          faultline::runtime::Spawn(this->factory_.executor(), "writer", [&fs, &finished, f] {
            const std::string path = "file" + std::to_string(f);
            auto opened = fs.Open(path, OpenMode::kCreateExclusive);
            ASSERT_TRUE(opened.ok()) << opened.status();
            std::string expected;
            for (int i = 0; i < kWritesPerFiber; ++i) {
              const std::string chunk = std::to_string(f) + ":" + std::to_string(i) + ";";
              ASSERT_TRUE((*opened)->Append(contract::Bytes(chunk)).ok());
              ASSERT_TRUE((*opened)->Sync().ok());
              expected += chunk;
            }
            EXPECT_EQ(contract::ReadAll(**opened).value_or("<error>"), expected);
            ++finished;
          }));
    }
    for (auto& join : joins) join.Join();
  });
  EXPECT_EQ(finished, kFibers);
}

// Model-based: random writes, appends and truncates on one file agree with a
// std::string model, byte for byte, at every step.
TYPED_TEST_P(FileSystemContractTest, RandomOperationsMatchModel) {
  using namespace faultline::io;
  this->Run([&](FileSystem& fs) {
    int case_number = 0;
    const bool passed = rc::check("file behaves like a byte string", [&] {
      const std::string path = "model" + std::to_string(case_number++);
      auto opened = fs.Open(path, OpenMode::kCreateExclusive);
      RC_ASSERT(opened.ok());
      File& file = **opened;
      std::string model;
      const int op_count = *rc::gen::inRange(1, 24);
      for (int op = 0; op < op_count; ++op) {
        const int kind = *rc::gen::inRange(0, 4);
        if (kind == 0) {  // WriteAt, possibly past the end
          const auto offset = static_cast<uint64_t>(*rc::gen::inRange(0, 9000));
          const std::string data = *rc::gen::container<std::string>(
              static_cast<size_t>(*rc::gen::inRange(0, 5000)), rc::gen::arbitrary<char>());
          RC_ASSERT(file.WriteAt(offset, contract::Bytes(data)).ok());
          // A zero-length write changes nothing, even past the end (POSIX).
          if (!data.empty()) {
            if (model.size() < offset + data.size()) model.resize(offset + data.size(), '\0');
            model.replace(offset, data.size(), data);
          }
        } else if (kind == 1) {  // Append
          const std::string data = *rc::gen::string<std::string>();
          RC_ASSERT(file.Append(contract::Bytes(data)).ok());
          model += data;
        } else if (kind == 2) {  // Truncate
          const auto size_bytes = static_cast<uint64_t>(*rc::gen::inRange(0, 9000));
          RC_ASSERT(file.Truncate(size_bytes).ok());
          model.resize(size_bytes, '\0');
        } else {  // ReadAt somewhere
          const auto offset = static_cast<uint64_t>(*rc::gen::inRange(0, 10000));
          const auto length = static_cast<size_t>(*rc::gen::inRange(0, 6000));
          auto read = contract::ReadString(file, offset, length);
          RC_ASSERT(read.ok());
          const std::string expected =
              offset >= model.size() ? std::string() : model.substr(offset, length);
          RC_ASSERT(*read == expected);
        }
        RC_ASSERT(file.Size().value_or(~uint64_t{0}) == model.size());
      }
      auto all = contract::ReadAll(file);
      RC_ASSERT(all.ok());
      RC_ASSERT(*all == model);
      RC_ASSERT(file.Close().ok());
      RC_ASSERT(fs.Remove(path).ok());
    });
    EXPECT_TRUE(passed);
  });
}

REGISTER_TYPED_TEST_SUITE_P(FileSystemContractTest, OpenReadWriteOfMissingFileIsNotFound,
                            CreateExclusiveOfExistingFileIsAlreadyExists,
                            CreateKeepsExistingContents, CreateTruncateEmptiesExistingFile,
                            OpenInMissingDirectoryIsNotFound, PositionalWriteAndRead,
                            WriteAtPastEndLeavesZeroGap, WriteAtAndSyncWritesLikeWriteAt,
                            AppendWritesAtEndOfFile,
                            ReadsAtEndOfFileAreShort, TruncateShrinksAndExtendsWithZeros,
                            LargeWriteRoundTrips, SyncAndSyncDirSucceed, RenameReplacesTarget,
                            OpenHandleSurvivesRename, RenameMovesADirectoryWithEverythingInIt,
                            DirectoryRenameRefusalsChangeNothing, RenameOfMissingFileIsNotFound,
                            RemoveDeletesFile, CreateDirIsIdempotentAndHoldsFiles,
                            ListIsSortedBytewise, ExistsReflectsCurrentState,
                            LockFileIsExclusiveUntilReleased,
                            InvalidPathsAreInvalidArgument, OperationsAfterCloseFail,
                            CloseDuringAnotherFibersCallTouchesNoOtherFile,
                            ConcurrentFibersUseSeparateFiles, RandomOperationsMatchModel);
