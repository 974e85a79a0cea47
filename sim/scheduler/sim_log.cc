// sim/scheduler/sim_log.cc — see sim_log.h.
#include "sim/scheduler/sim_log.h"

#include <memory>
#include <string>

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "absl/strings/str_format.h"
#include "sim/scheduler/scheduler.h"

namespace faultline::sim {
namespace {

// The %* flag: "<seconds>.<nanoseconds>s <node>" of the active scheduler.
class SimStampFlag final : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    std::string stamp;
    if (Scheduler* scheduler = Scheduler::Active()) {
      const int64_t now_ns = scheduler->VirtualNowNs();  // the trace's time
      stamp = absl::StrFormat("%6d.%09ds %s", now_ns / 1'000'000'000, now_ns % 1'000'000'000,
                              scheduler->NodeName(scheduler->CurrentNode()));
    } else {
      stamp = "   (outside the simulation)";
    }
    dest.append(stamp.data(), stamp.data() + stamp.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<SimStampFlag>();
  }
};

}  // namespace

void InstallSimLogger(spdlog::level::level_enum level) {
  auto logger = std::make_shared<spdlog::logger>(
      "faultline", std::make_shared<spdlog::sinks::stderr_sink_st>());
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<SimStampFlag>('*').set_pattern("[%*] %l: %v");
  logger->set_formatter(std::move(formatter));
  logger->set_level(level);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace faultline::sim
