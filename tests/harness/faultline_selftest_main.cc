// tests/harness/faultline_selftest_main.cc — `faultline_selftest`: the
// `faultline` command line over the registered scenarios plus the hostile
// selftest_* ones, for the end-to-end tests of the harness.
#include <string>
#include <vector>

#include "harness/cli.h"
#include "tests/harness/selftest_scenarios.h"

int main(int argc, char** argv) {
  return faultline::harness::RunCli(std::vector<std::string>(argv + 1, argv + argc),
                                    faultline::harness::selftest::AllScenariosWithSelftests());
}
