// tools/lint/handler_rules.cc — handlers must let FiberKilled through (see
// rules.h).
//
// A crash kills a node's fibers by throwing runtime::FiberKilled into them;
// a handler that swallows it keeps a dead node's fiber running. So:
//   * `catch (...)` must rethrow, unless an earlier handler of the same try
//     catches FiberKilled (which then must rethrow itself);
//   * a handler of FiberKilled must rethrow, except in the executor's fiber
//     entry, the one place that ends a killed fiber.
// "Rethrow" means a `throw;` statement that is always reached: at the top
// level of the handler's block (not under an if, a loop or a nested block),
// with no return, break, continue or goto in the handler and no
// preprocessor line inside it (that could compile the rethrow out). A
// handler whose body (or parameter) the lint cannot read, as when a macro
// holds `catch (...)` and the code its body, counts as not rethrowing.
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "tools/lint/rules.h"

namespace faultline::lint {
namespace {

constexpr std::string_view kFiberEntry = "core/runtime/internal/fiber_core.cc";

struct Handler {
  size_t catch_token = 0;
  size_t params_open = 0, params_close = 0;  // '(' and ')'
  size_t body_open = 0, body_close = 0;      // '{' and '}', or tokens.size() if not there
};

std::optional<Handler> ReadHandler(const FileContext& file, size_t catch_token) {
  const std::vector<Token>& tokens = file.tokens;
  Handler h;
  h.catch_token = catch_token;
  h.params_open = catch_token + 1;
  if (h.params_open >= tokens.size() || !Is(tokens[h.params_open], "(")) return std::nullopt;
  h.params_close = file.partner[h.params_open];
  if (h.params_close >= tokens.size()) return std::nullopt;
  h.body_open = h.params_close + 1;
  const bool braced = h.body_open < tokens.size() && Is(tokens[h.body_open], "{");
  h.body_close = braced ? file.partner[h.body_open] : tokens.size();
  if (h.body_close >= tokens.size()) h.body_open = h.body_close = tokens.size();
  return h;
}

bool CatchesAll(const std::vector<Token>& tokens, const Handler& h) {
  return h.params_close == h.params_open + 2 && Is(tokens[h.params_open + 1], "...");
}

bool CatchesFiberKilled(const FileContext& file, const Handler& h) {
  for (size_t i = h.params_open + 1; i < h.params_close; ++i) {
    if (!StartsName(file.tokens, i)) continue;
    const auto name = ReadName(file.tokens, i);
    if (!name) continue;
    for (const std::string& full : Resolve(*name, file.scope)) {
      if (full == "FiberKilled" || (full.size() > 13 && full.substr(full.size() - 13) == "::FiberKilled")) {
        return true;
      }
    }
  }
  return false;
}

bool AlwaysRethrows(const std::vector<Token>& tokens, const Handler& h) {
  if (h.body_close >= tokens.size()) return false;  // a body the lint cannot see
  bool rethrows = false;
  int depth = 0;
  for (size_t i = h.body_open + 1; i < h.body_close; ++i) {
    const Token& t = tokens[i];
    if (t.directive) return false;
    for (std::string_view exit : {"return", "co_return", "break", "continue", "goto"}) {
      if (Is(t, exit)) return false;
    }
    if (Is(t, "{")) ++depth;
    if (Is(t, "}")) --depth;
    const Token& before = tokens[i - 1];
    const bool statement_start = i == h.body_open + 1 || Is(before, ";") || Is(before, "}");
    if (depth == 0 && statement_start && Is(t, "throw") && i + 1 < h.body_close &&
        Is(tokens[i + 1], ";")) {
      rethrows = true;
    }
  }
  return rethrows;
}

}  // namespace

void CheckHandlers(const FileContext& file) {
  const std::vector<Token>& tokens = file.tokens;
  // The '}' ending each handler read so far, and whether that handler or
  // an earlier one of the same try catches FiberKilled: the handlers of
  // one try follow each other, `} catch (`.
  std::map<size_t, bool> killed_caught_by_end;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (!Is(tokens[i], "catch")) continue;
    const auto handler = ReadHandler(file, i);
    if (!handler) {
      file.Report(tokens[i].line, "catch-all",
                  "write a handler out, `catch (...) { ... }`: the lint must see what it catches "
                  "and whether it rethrows");
      continue;
    }
    const auto previous = i > 0 ? killed_caught_by_end.find(i - 1) : killed_caught_by_end.end();
    const bool killed_handled_before = previous != killed_caught_by_end.end() && previous->second;
    if (handler->body_close < tokens.size()) {
      killed_caught_by_end[handler->body_close] =
          killed_handled_before || CatchesFiberKilled(file, *handler);
    }
    if (CatchesAll(tokens, *handler)) {
      if (!killed_handled_before && !AlwaysRethrows(tokens, *handler)) {
        file.Report(tokens[i].line, "catch-all",
                    "catch (...) must always rethrow (throw;): it would swallow "
                    "runtime::FiberKilled and break crash unwinding");
      }
    } else if (CatchesFiberKilled(file, *handler) && file.path != kFiberEntry &&
               !AlwaysRethrows(tokens, *handler)) {
      file.Report(tokens[i].line, "fiber-killed",
                  "a FiberKilled handler must always rethrow (throw;): only the executor's fiber "
                  "entry may end a killed fiber");
    }
  }
}

}  // namespace faultline::lint
