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

// An EIO is the world failing, never a broken invariant (kInternal): a
// refused write is kUnavailable, an unreadable byte or a failed sync is
// kDataLoss, and IsIoError and the errno hold for every kind.
TEST(ErrnoToStatusTest, IoErrorsSayWhatTheDataRisks) {
  const absl::Status refused = IoError("pwrite f");
  const absl::Status at_risk = IoError("fdatasync f", IoFailure::kDataAtRisk);
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(at_risk.code(), absl::StatusCode::kDataLoss);
  EXPECT_EQ(ErrnoToStatus(EIO, "pwrite f").code(), absl::StatusCode::kUnavailable);
  for (const absl::Status& status : {refused, at_risk, ErrnoToStatus(EIO, "read f")}) {
    EXPECT_TRUE(IsIoError(status)) << status;
    EXPECT_EQ(ErrnoOf(status), EIO) << status;
    EXPECT_FALSE(IsNoSpace(status)) << status;
    EXPECT_NE(status.code(), absl::StatusCode::kInternal) << status;
  }
  EXPECT_NE(at_risk.message().find("fdatasync f"), absl::string_view::npos);
}

}  // namespace
}  // namespace faultline::io
