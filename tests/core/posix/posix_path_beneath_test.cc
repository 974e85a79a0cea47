// tests/core/posix/posix_path_beneath_test.cc — no path of a PosixFileSystem
// reaches outside its root, whatever symlinks the tree holds: each call is
// tried through a symlink to a directory outside (absolute and relative
// targets), with openat2 resolution and with the per-component fallback, and
// the outside directory must be untouched and unread.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <tuple>

#include "core/io/errors.h"
#include "core/io/file_system.h"
#include "core/posix/event_loop.h"
#include "core/posix/posix_file_system.h"
#include "tests/core/posix/posix_test_util.h"

namespace faultline::posix {
namespace {

using ::faultline::posix::testing::RunInFiber;
using ::faultline::posix::testing::TempDir;

bool HostExists(const std::string& path) {
  struct stat info {};
  return lstat(path.c_str(), &info) == 0;
}

enum class Target { kAbsolute, kRelative };

// Param: (use_openat2, how the escaping symlink names its target).
class PathBeneathTest : public ::testing::TestWithParam<std::tuple<bool, Target>> {
 protected:
  void SetUp() override {
    // root/out -> a directory outside root, holding "secret".
    std::ofstream(outside_.path() + "/secret") << "not yours";
    const std::string target =
        std::get<1>(GetParam()) == Target::kAbsolute
            ? outside_.path()
            : "../" + std::filesystem::path(outside_.path()).filename().string();
    ASSERT_EQ(symlink(target.c_str(), (root_.path() + "/out").c_str()), 0);
    // root/leaf -> the secret file itself.
    ASSERT_EQ(symlink((outside_.path() + "/secret").c_str(), (root_.path() + "/leaf").c_str()),
              0);
    std::ofstream(root_.path() + "/mine") << "mine";
    PosixFileSystemOptions options;
    options.use_openat2 = std::get<0>(GetParam());
    auto opened = PosixFileSystem::Open(loop_, root_.path(), options);
    ASSERT_TRUE(opened.ok()) << opened.status();
    fs_ = std::move(*opened);
  }

  // The outside directory still holds exactly "secret", unchanged.
  void ExpectOutsideUntouched() {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(outside_.path())) {
      names.push_back(entry.path().filename().string());
    }
    EXPECT_EQ(names, std::vector<std::string>{"secret"});
    std::ifstream in(outside_.path() + "/secret");
    std::string content;
    std::getline(in, content);
    EXPECT_EQ(content, "not yours");
  }

  TempDir root_;
  TempDir outside_;
  EventLoop loop_;
  std::unique_ptr<PosixFileSystem> fs_;
};

TEST_P(PathBeneathTest, OpenAndCreateDoNotFollowOut) {
  RunInFiber(loop_, [&] {
    EXPECT_FALSE(fs_->Open("out/secret", io::OpenMode::kReadWrite).ok());
    EXPECT_FALSE(fs_->Open("out/secret", io::OpenMode::kCreateTruncate).ok());
    EXPECT_FALSE(fs_->Open("out/planted", io::OpenMode::kCreate).ok());
    EXPECT_FALSE(fs_->Open("leaf", io::OpenMode::kReadWrite).ok());
    EXPECT_FALSE(fs_->Open("leaf", io::OpenMode::kCreate).ok());
  });
  ExpectOutsideUntouched();
}

TEST_P(PathBeneathTest, RenameRemoveAndMkdirDoNotReachOut) {
  RunInFiber(loop_, [&] {
    EXPECT_FALSE(fs_->Rename("out/secret", "stolen").ok());
    EXPECT_FALSE(fs_->Rename("mine", "out/planted").ok());
    EXPECT_FALSE(fs_->Remove("out/secret").ok());
    EXPECT_FALSE(fs_->CreateDir("out/planted").ok());
  });
  ExpectOutsideUntouched();
  EXPECT_FALSE(HostExists(root_.path() + "/stolen"));
  EXPECT_TRUE(HostExists(root_.path() + "/mine"));
}

TEST_P(PathBeneathTest, ListSyncDirAndExistsDoNotLookOut) {
  RunInFiber(loop_, [&] {
    const auto listed = fs_->List("out");
    EXPECT_FALSE(listed.ok()) << "listed names outside the root";
    EXPECT_FALSE(fs_->SyncDir("out").ok());
    const auto exists = fs_->Exists("out/secret");
    EXPECT_FALSE(exists.ok() && *exists) << "saw a file outside the root";
  });
}

// The symlinks themselves are entries of the root: removing or renaming them
// acts on the link, not on what it points to.
TEST_P(PathBeneathTest, LinksInTheRootAreHandledAsEntries) {
  RunInFiber(loop_, [&] {
    ASSERT_TRUE(fs_->Rename("leaf", "leaf2").ok());
    ASSERT_TRUE(fs_->Remove("leaf2").ok());
    ASSERT_TRUE(fs_->Remove("out").ok());
    const auto names = fs_->List("");
    ASSERT_TRUE(names.ok()) << names.status();
    EXPECT_EQ(*names, std::vector<std::string>{"mine"});
  });
  ExpectOutsideUntouched();
}

INSTANTIATE_TEST_SUITE_P(
    ResolutionAndTarget, PathBeneathTest,
    ::testing::Combine(::testing::Bool(), ::testing::Values(Target::kAbsolute, Target::kRelative)),
    [](const ::testing::TestParamInfo<PathBeneathTest::ParamType>& param_info) {
      return std::string(std::get<0>(param_info.param) ? "Openat2" : "NoFollowWalk") +
             (std::get<1>(param_info.param) == Target::kAbsolute ? "Absolute" : "Relative");
    });

// A symlink that stays inside the root: followed under openat2, refused by
// the fallback, which cannot tell where a link leads without following it.
TEST(PathBeneathInsideTest, InsideLinkFollowedOnlyWithOpenat2) {
  for (const bool use_openat2 : {true, false}) {
    SCOPED_TRACE(use_openat2 ? "openat2" : "fallback");
    TempDir root;
    ASSERT_EQ(mkdir((root.path() + "/sub").c_str(), 0700), 0);
    ASSERT_EQ(symlink("sub", (root.path() + "/alias").c_str()), 0);
    EventLoop loop;
    PosixFileSystemOptions options;
    options.use_openat2 = use_openat2;
    auto fs = PosixFileSystem::Open(loop, root.path(), options);
    ASSERT_TRUE(fs.ok()) << fs.status();
    bool followed = false;
    RunInFiber(loop, [&] {
      auto file = (*fs)->Open("alias/f", io::OpenMode::kCreate);
      followed = file.ok();
      if (!followed) {
        EXPECT_EQ(io::ErrnoOf(file.status()), ELOOP) << file.status();
      }
    });
    // openat2 may be missing (kernel < 5.6): then both refuse.
    if (!use_openat2) {
      EXPECT_FALSE(followed);
    }
    EXPECT_EQ(followed, HostExists(root.path() + "/sub/f"));
  }
}

}  // namespace
}  // namespace faultline::posix
