// tools/lint/determinism_lint.cc — see determinism_lint.h: which files are
// linted, and how a file's scope is assembled from the headers it includes.
#include "tools/lint/determinism_lint.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "tools/lint/rules.h"

namespace faultline::lint {
namespace {

bool EndsWith(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

void Check(std::string_view path, const std::vector<Token>& tokens, const Scope& scope,
           std::vector<Violation>& out) {
  const std::vector<size_t> partner = MatchBrackets(tokens);
  const FileContext file{path, tokens, partner, scope, out};
  CheckNames(file);
  CheckIncludes(file);
  CheckContainers(file);
  CheckHandlers(file);
}

// Sorted by file and line; one report per rule and line (an alias and the
// name it stands for, on one line, are one finding).
void SortByPlace(std::vector<Violation>& violations) {
  std::stable_sort(violations.begin(), violations.end(), [](const Violation& a, const Violation& b) {
    return a.file != b.file ? a.file < b.file : a.line < b.line;
  });
  std::set<std::tuple<std::string, int, std::string>> seen;
  std::vector<Violation> unique;
  for (Violation& v : violations) {
    if (seen.emplace(v.file, v.line, v.rule).second) unique.push_back(std::move(v));
  }
  violations = std::move(unique);
}

struct ParsedFile {
  std::vector<Token> tokens;
  std::vector<std::string> includes;  // linted core/ files it includes
};

// The scope of `path`: what the core/ headers it includes declare, then its
// own declarations. Memoized; an include cycle contributes nothing more.
class ScopeBuilder {
 public:
  explicit ScopeBuilder(const std::map<std::string, ParsedFile>& files) : files_(files) {}

  const Scope& Of(const std::string& path) {
    if (const auto done = scopes_.find(path); done != scopes_.end()) return done->second;
    static const Scope kEmpty;
    if (!in_progress_.insert(path).second) return kEmpty;
    const ParsedFile& file = files_.at(path);
    Scope scope;
    for (const std::string& included : file.includes) scope.Merge(Of(included));
    CollectScope(file.tokens, scope);
    in_progress_.erase(path);
    return scopes_.emplace(path, std::move(scope)).first->second;
  }

 private:
  const std::map<std::string, ParsedFile>& files_;
  std::map<std::string, Scope> scopes_;
  std::set<std::string> in_progress_;
};

}  // namespace

FileKind Classify(std::string_view path) {
  if (path.substr(0, 5) != "core/" || path.substr(0, 11) == "core/posix/") return FileKind::kIgnored;
  const std::string_view name = path.substr(path.rfind('/') + 1);
  for (std::string_view doc : {".md", ".txt", ".rst", ".cmake", ".json", ".yml", ".yaml"}) {
    if (EndsWith(name, doc)) return FileKind::kIgnored;
  }
  if (name == "CMakeLists.txt" || name == ".gitignore" || name == ".clang-format") {
    return FileKind::kIgnored;
  }
  const size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return FileKind::kSource;
  for (std::string_view cxx : {".h", ".hh", ".hpp", ".hxx", ".h++", ".c", ".cc", ".cpp", ".cxx",
                               ".c++", ".inc", ".inl", ".ipp", ".tcc", ".tpp", ".ixx", ".cppm"}) {
    if (name.substr(dot) == cxx) return FileKind::kSource;
  }
  return FileKind::kUnknown;
}

std::vector<Violation> LintSource(std::string_view path, std::string_view contents) {
  const std::vector<Token> tokens = Tokenize(contents);
  Scope scope;
  CollectScope(tokens, scope);
  std::vector<Violation> violations;
  Check(path, tokens, scope, violations);
  SortByPlace(violations);
  return violations;
}

TreeResult LintTree(const std::filesystem::path& root) {
  namespace fs = std::filesystem;
  TreeResult result;
  std::error_code error;
  if (!fs::is_directory(root / "core", error)) {
    result.error = (root / "core").string() + " is not a directory";
    return result;
  }
  std::map<std::string, ParsedFile> files;
  for (auto it = fs::recursive_directory_iterator(root / "core", error);
       !error && it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (!it->is_regular_file()) continue;
    const std::string relative = fs::relative(it->path(), root).generic_string();
    const FileKind kind = Classify(relative);
    if (kind == FileKind::kIgnored) continue;
    ++result.files_checked;
    if (kind == FileKind::kUnknown) {
      result.violations.push_back(Violation{relative, 1, "unknown-file",
                                            "core/ holds C++ sources and documentation only: "
                                            "use a C++ extension the lint knows"});
      continue;
    }
    std::ifstream in(it->path(), std::ios::binary);
    std::stringstream contents;
    contents << in.rdbuf();
    if (!in) {
      result.error = "cannot read " + it->path().string();
      return result;
    }
    files[relative].tokens = Tokenize(contents.str());
  }
  if (error) {
    result.error = "cannot walk " + (root / "core").string() + ": " + error.message();
    return result;
  }
  for (auto& [path, file] : files) {
    for (std::string& included : IncludedPaths(path, file.tokens)) {
      if (files.count(included) > 0 && included != path) file.includes.push_back(std::move(included));
    }
  }
  ScopeBuilder scopes(files);
  for (const auto& [path, file] : files) Check(path, file.tokens, scopes.Of(path), result.violations);
  SortByPlace(result.violations);
  return result;
}

}  // namespace faultline::lint
