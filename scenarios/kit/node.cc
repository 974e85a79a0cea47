// scenarios/kit/node.cc — see node.h.
#include "scenarios/kit/node.h"

#include <utility>

#include "core/base/check.h"

namespace faultline::scenarios::kit {
namespace {

// File systems (decorators) a node keeps alive until the run ends: at most
// one per open of the code under test, bounded all the same.
constexpr size_t kMaxFileSystemsPerNode = 4096;

}  // namespace

Node::Node(World& world, std::string name)
    : world_(world),
      id_(world.scheduler().AddNode(std::move(name))),
      wake_(world.scheduler()),
      // Inside the armed operation; the disk settles the crash and kills the
      // node right after.
      crash_at_op_([this](std::string_view label) { BeforeCrash(label); }) {}

void Node::Start() {
  FAULTLINE_CHECK(main_ != nullptr);
  world_.scheduler().StartFiberOn(id_, "main", [this] { main_(Life::kWork); });
}

void Node::Restart(Life life) {
  FAULTLINE_CHECK(main_ != nullptr);
  finished_ = false;
  world_.scheduler().Restart(id_, life == Life::kVerify ? "verify" : "main",
                             [this, life] { main_(life); });
}

void Node::Finish() {
  finished_ = true;
  wake_.Set();
}

void Node::WaitForCrashOrFinish() {
  // Each iteration parks once; the node either crashes or finishes a
  // bounded workload.
  while (alive() && !finished_ && !world_.over()) {
    wake_.Reset();
    wake_.Wait();
  }
}

bool Node::CrashNow(std::string_view label, std::string_view coverage_kind) {
  crash_at_op_.Disarm();
  if (!alive()) return false;
  Crash(label, coverage_kind);
  return true;
}

void Node::BeforeCrash(std::string_view coverage_kind) {
  if (before_crash_) before_crash_();
  // The crash follows at once, at this virtual time; the network settles it
  // now (its messages in flight vanish from this instant).
  if (network_ != nullptr) network_->Crash(id_);
  if (!coverage_kind.empty()) world_.coverage().Count(coverage_kind);
  world_.coverage().Count("crash");
  wake_.Set();
}

void Node::Crash(std::string_view label, std::string_view coverage_kind) {
  BeforeCrash(coverage_kind);
  world_.scheduler().Crash(id_, label);  // throws FiberKilled when called on the node
}

void Node::ArmCrashAtOp(OpCrash crash) {
  crash.tear_last_write = DrawPowerLossOptions().tear_last_write;
  crash_at_op_.Arm(crash);
}

Node::RecoveryScope::RecoveryScope(Node& node) : node_(node) {
  node_.crash_at_op_.set_recovering(true);
}

Node::RecoveryScope::~RecoveryScope() {
  node_.crash_at_op_.set_recovering(false);
  if (node_.crash_at_op_.armed_for_recovery()) {
    node_.crash_at_op_.Disarm();  // a crash meant for this recovery that did not fire
    node_.wake_.Set();
  }
}

void Node::AttachDisk(sim::disk::SimDisk& disk, uint32_t tear_last_write_ppm) {
  disk_ = &disk;
  tear_last_write_ppm_ = tear_last_write_ppm;
  crash_at_op_.Attach(disk.ForNode(id_));
}

io::FileSystem& Node::FileSystem(
    const std::function<std::unique_ptr<io::FileSystem>(io::FileSystem&)>& wrap) {
  FAULTLINE_CHECK(disk_ != nullptr);
  FAULTLINE_CHECK(file_systems_.size() + 1 <= kMaxFileSystemsPerNode);
  io::FileSystem& fs = disk_->ForNode(id_);
  if (!wrap) return fs;
  file_systems_.push_back(wrap(fs));
  return *file_systems_.back();
}

io::Network& Node::Network() {
  FAULTLINE_CHECK(network_ != nullptr);
  return *network_;
}

sim::disk::CrashOptions Node::DrawPowerLossOptions() {
  sim::Prng& crash = world_.prng(sim::Stream::kCrash);
  sim::disk::CrashOptions options;
  options.tear_last_write = crash.ChancePpm(tear_last_write_ppm_);
  return options;
}

void Node::SettleDisk(CrashKind kind) {
  if (disk_ == nullptr) return;
  // Drawn for both kinds, so that the kind does not shift later draws.
  const sim::disk::CrashOptions options = DrawPowerLossOptions();
  if (kind == CrashKind::kProcess) {
    disk_->CrashProcess(id_);  // idempotent per incarnation
  } else {
    disk_->Crash(id_, options);  // idempotent per incarnation
  }
}

void Node::PowerLoss() {
  if (disk_ == nullptr) return;
  FAULTLINE_CHECK(!alive());
  world_.coverage().Count("power_loss_while_down");
  disk_->PowerLoss(id_, DrawPowerLossOptions());
}

}  // namespace faultline::scenarios::kit
