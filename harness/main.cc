// harness/main.cc — the `faultline` binary: the command line (harness/cli.h)
// over every registered scenario.
#include <string>
#include <vector>

#include "harness/cli.h"
#include "scenarios/registry.h"

int main(int argc, char** argv) {
  return faultline::harness::RunCli(std::vector<std::string>(argv + 1, argv + argc),
                                    faultline::scenarios::KnownScenarios());
}
