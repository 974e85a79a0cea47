// tools/lint/main.cc — `determinism_lint ROOT`: lints every file under
// ROOT/core (outside core/posix); prints file:line: rule: message for each
// violation and exits 1 if there is any, 0 otherwise, 2 on bad usage.
#include <iostream>

#include "tools/lint/determinism_lint.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: determinism_lint REPOSITORY_ROOT\n";
    return 2;
  }
  const faultline::lint::TreeResult result = faultline::lint::LintTree(argv[1]);
  if (!result.error.empty()) {
    std::cerr << "determinism_lint: " << result.error << "\n";
    return 2;
  }
  for (const auto& v : result.violations) {
    std::cout << v.file << ":" << v.line << ": " << v.rule << ": " << v.message << "\n";
  }
  std::cout << "determinism lint: " << result.files_checked << " files checked, "
            << result.violations.size() << " violations\n";
  return result.violations.empty() ? 0 : 1;
}
