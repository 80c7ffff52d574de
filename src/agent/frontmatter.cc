#include "agent/frontmatter.h"

#include <set>

#include "util/files.h"
#include "util/text.h"

namespace pipeline {
namespace {

std::string Unquote(const std::string& v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    return v.substr(1, v.size() - 2);
  return v;
}

// Splits off the next line (without its "\n" or "\r\n").
bool NextLine(std::string_view text, size_t* pos, std::string_view* line) {
  if (*pos >= text.size()) return false;
  size_t nl = text.find('\n', *pos);
  size_t end = nl == std::string_view::npos ? text.size() : nl;
  *line = text.substr(*pos, end - *pos);
  if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
  *pos = nl == std::string_view::npos ? text.size() : nl + 1;
  return true;
}

}  // namespace

Result<PromptFile> ParsePrompt(std::string_view text) {
  PromptFile p;
  size_t pos = 0;
  std::string_view line;
  if (!NextLine(text, &pos, &line) || Trim(line) != "---") {
    p.body = std::string(text);
    return p;
  }
  std::set<std::string> seen;
  int lineno = 1;
  bool closed = false;
  while (NextLine(text, &pos, &line)) {
    ++lineno;
    std::string t = Trim(line);
    if (t == "---") {
      closed = true;
      break;
    }
    if (t.empty() || t[0] == '#') continue;
    size_t colon = t.find(':');
    if (colon == std::string::npos)
      return InvalidArgument("prompt frontmatter line " + std::to_string(lineno) + ": expected `key: value`, got " +
                             Quoted(TruncateUtf8(t, 80)));
    std::string key = Trim(t.substr(0, colon));
    std::string value = Unquote(Trim(t.substr(colon + 1)));
    if (key.empty())
      return InvalidArgument("prompt frontmatter line " + std::to_string(lineno) + ": empty key");
    if (!seen.insert(key).second)
      return InvalidArgument("prompt frontmatter line " + std::to_string(lineno) + ": duplicate key " + key);
    auto text_field = [&](std::optional<std::string>* f) {
      if (!value.empty()) *f = value;
    };
    auto int_field = [&](std::optional<int64_t>* f) -> Status {
      if (value.empty()) return Status::Ok();
      auto v = ParseInt64(value);
      if (!v || *v < 0)
        return InvalidArgument("prompt frontmatter line " + std::to_string(lineno) + ": " + key +
                               " must be a non-negative integer, got " + Quoted(value));
      *f = *v;
      return Status::Ok();
    };
    if (key == "toolchain") text_field(&p.toolchain);
    else if (key == "workspace") text_field(&p.workspace);
    else if (key == "provider") text_field(&p.provider);
    else if (key == "model") text_field(&p.model);
    else if (key == "profile") text_field(&p.profile);
    else if (key == "run_id") text_field(&p.run_id);
    else if (key == "task_id") text_field(&p.task_id);
    else if (key == "max_iterations") PL_RETURN_IF_ERROR(int_field(&p.max_iterations));
    else if (key == "max_cost_cents") PL_RETURN_IF_ERROR(int_field(&p.max_cost_cents));
    else if (key == "timeout_s") PL_RETURN_IF_ERROR(int_field(&p.timeout_s));
    else p.unknown.emplace_back(key, value);
  }
  if (!closed) return InvalidArgument("prompt frontmatter is not closed: no `---` line after the opening one");
  p.body = std::string(text.substr(pos));
  return p;
}

Result<PromptFile> ReadPromptFile(const std::string& path) {
  if (IsDirectory(path)) return InvalidArgument("prompt file " + path + " is a directory");
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.kind() == ErrorKind::kNotFound) return NotFound("prompt file not found: " + path);
    return text.error();
  }
  auto p = ParsePrompt(*text);
  if (!p.ok()) return Error{p.kind(), path + ": " + p.message()};
  return p;
}

}  // namespace pipeline
