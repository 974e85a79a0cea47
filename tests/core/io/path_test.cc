// tests/core/io/path_test.cc — the path rules and errno mapping every
// FileSystem shares (core/io/file_system.h, core/io/errors.h).
#include <gtest/gtest.h>

#include <cerrno>

#include "core/io/errors.h"
#include "core/io/file_system.h"

namespace faultline::io {
namespace {

TEST(ValidatePathTest, AcceptsRelativePaths) {
  EXPECT_TRUE(ValidatePath("a").ok());
  EXPECT_TRUE(ValidatePath("a/b/c.log").ok());
  EXPECT_TRUE(ValidatePath("...").ok());  // only "." and ".." are special
  EXPECT_TRUE(ValidatePath("", /*allow_root=*/true).ok());
}

TEST(ValidatePathTest, RejectsEscapesAndMalformedPaths) {
  for (const char* bad : {"", "/a", "a/..", "../a", ".", "a//b", "a/", "a/./b"}) {
    EXPECT_TRUE(absl::IsInvalidArgument(ValidatePath(bad))) << bad;
  }
  EXPECT_TRUE(absl::IsInvalidArgument(ValidatePath(std::string_view("a\0b", 3))));
}

TEST(PathHelpersTest, ParentAndJoin) {
  EXPECT_EQ(ParentDir("a/b/c"), "a/b");
  EXPECT_EQ(ParentDir("c"), "");
  EXPECT_EQ(JoinPath("", "c"), "c");
  EXPECT_EQ(JoinPath("a/b", "c"), "a/b/c");
}

TEST(ErrnoToStatusTest, MapsCodesAndKeepsErrno) {
  EXPECT_TRUE(IsIoError(ErrnoToStatus(EIO, "fdatasync f")));
  EXPECT_TRUE(IsNoSpace(ErrnoToStatus(ENOSPC, "pwrite f")));
  EXPECT_TRUE(absl::IsNotFound(ErrnoToStatus(ENOENT, "open f")));
  EXPECT_TRUE(absl::IsAlreadyExists(ErrnoToStatus(EEXIST, "open f")));
  EXPECT_EQ(ErrnoOf(ErrnoToStatus(EACCES, "open f")), EACCES);
  EXPECT_TRUE(IsNodeDead(NodeDeadError("read f")));
  EXPECT_FALSE(IsNodeDead(IoError("read f")));
}

}  // namespace
}  // namespace faultline::io
