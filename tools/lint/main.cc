// tools/lint/main.cc — `determinism_lint ROOT`: lints every C++ file under
// ROOT/core (outside core/posix); prints file:line: rule: message for each
// violation and exits 1 if there is any, 0 otherwise, 2 on bad usage.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tools/lint/determinism_lint.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: determinism_lint REPOSITORY_ROOT\n";
    return 2;
  }
  const std::filesystem::path root(argv[1]);
  std::error_code error;
  if (!std::filesystem::is_directory(root / "core", error)) {
    std::cerr << "determinism_lint: " << (root / "core").string() << " is not a directory\n";
    return 2;
  }
  std::vector<std::string> files;
  for (auto it = std::filesystem::recursive_directory_iterator(root / "core", error);
       it != std::filesystem::recursive_directory_iterator(); it.increment(error)) {
    if (error) break;
    if (!it->is_regular_file()) continue;
    const std::string relative = std::filesystem::relative(it->path(), root).generic_string();
    if (faultline::lint::IsLinted(relative)) files.push_back(relative);
  }
  if (error) {
    std::cerr << "determinism_lint: cannot walk " << root.string() << ": " << error.message() << "\n";
    return 2;
  }
  std::sort(files.begin(), files.end());
  size_t violation_count = 0;
  for (const std::string& file : files) {
    std::ifstream in(root / file, std::ios::binary);
    std::stringstream contents;
    contents << in.rdbuf();
    for (const auto& v : faultline::lint::LintSource(file, contents.str())) {
      std::cout << v.file << ":" << v.line << ": " << v.rule << ": " << v.message << "\n";
      ++violation_count;
    }
  }
  std::cout << "determinism lint: " << files.size() << " files checked, " << violation_count
            << " violations\n";
  return violation_count == 0 ? 0 : 1;
}
