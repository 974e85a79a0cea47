// sim/disk/crash_enumerator.cc — depth-first walk of crash decisions (see
// crash_enumerator.h).
#include "sim/disk/crash_enumerator.h"

#include <algorithm>
#include <cstring>
#include <set>

#include "core/base/check.h"

namespace faultline::sim::disk {

// Reads a SimFileSystem's pending state (friend of SimFileSystem).
class CrashEnumeratorAccess {
 public:
  static CrashInput InputOf(SimFileSystem& fs) { return fs.MakeCrashInput(); }
};

namespace {

// Replays a recorded prefix of decisions and takes option 0 past it, noting
// each decision's arity so the next sequence can be computed.
class DepthFirstChoices final : public ChoiceSource {
 public:
  explicit DepthFirstChoices(const EnumerationOptions& options) : options_(options) {}

  uint32_t Choose(ChoicePoint point, uint32_t arity) override {
    uint32_t explored = arity;
    if (point == ChoicePoint::kTornSector) explored = std::min<uint32_t>(arity, 2);  // no garbage
    if (point == ChoicePoint::kSizeWithoutData) {
      explored = options_.include_size_without_data ? std::min<uint32_t>(arity, 2) : 1;
    }
    FAULTLINE_CHECK(explored >= 1);
    if (depth_ < path_.size()) {
      // The same prefix must lead to the same decisions: replay is exact.
      FAULTLINE_CHECK_MSG(arity_[depth_] == explored, "crash decisions are not deterministic");
      return path_[depth_++];
    }
    path_.push_back(0);
    arity_.push_back(explored);
    ++depth_;
    return 0;
  }

  void FillGarbage(absl::Span<char> out) override {
    std::memset(out.data(), 0xEE, out.size());
  }

  // Moves to the next decision sequence; false when the tree is exhausted.
  bool Advance() {
    FAULTLINE_CHECK(depth_ == path_.size());
    for (size_t i = path_.size(); i > 0; --i) {
      if (path_[i - 1] + 1 < arity_[i - 1]) {
        ++path_[i - 1];
        path_.resize(i);
        arity_.resize(i);
        depth_ = 0;
        return true;
      }
    }
    return false;
  }

 private:
  const EnumerationOptions& options_;
  std::vector<uint32_t> path_;
  std::vector<uint32_t> arity_;
  size_t depth_ = 0;
};

// Persists everything and tears every write into garbage sectors.
class GarbageChoices final : public ChoiceSource {
 public:
  uint32_t Choose(ChoicePoint point, uint32_t arity) override {
    switch (point) {
      case ChoicePoint::kWrite:
      case ChoicePoint::kTornSector:
      case ChoicePoint::kNamespaceOp:
      case ChoicePoint::kTruncate:
        return arity - 1;  // torn / garbage / persisted
      case ChoicePoint::kSizeWithoutData:
        return std::min<uint32_t>(arity - 1, 1);  // the size kept, its data not
      default:
        return 0;  // device-profile extras stay off: one representative
    }
  }
  void FillGarbage(absl::Span<char> out) override {
    std::memset(out.data(), 0xEE, out.size());
  }
};

}  // namespace

DiskImage GarbageCrashState(SimDisk& disk, NodeId node) {
  GarbageChoices choices;
  return ResolveCrash(CrashEnumeratorAccess::InputOf(disk.ForNode(node)), choices).ToImage();
}

CrashStates EnumerateCrashStates(const CrashInput& input, const EnumerationOptions& options) {
  FAULTLINE_CHECK(options.max_states >= 1 && options.max_sequences >= 1);
  CrashStates result;
  std::set<DiskImage> seen;
  DepthFirstChoices choices(options);
  while (true) {
    DiskImage image = ResolveCrash(input, choices).ToImage();
    ++result.sequences_explored;
    if (seen.insert(image).second) result.states.push_back(std::move(image));
    if (!choices.Advance()) {
      result.complete = true;
      break;
    }
    if (result.states.size() >= options.max_states ||
        result.sequences_explored >= options.max_sequences) {
      break;
    }
  }
  return result;
}

CrashStates EnumerateCrashStates(SimDisk& disk, NodeId node, const EnumerationOptions& options) {
  return EnumerateCrashStates(CrashEnumeratorAccess::InputOf(disk.ForNode(node)), options);
}

}  // namespace faultline::sim::disk
