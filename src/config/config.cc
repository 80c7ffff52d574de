#include "config/config.h"

#include <toml++/toml.h>

#include <sstream>

#include "config/config_check.h"
#include "util/files.h"

namespace pipeline {

struct Config::Impl {
  toml::table table;
};

Config::Config() : impl_(std::make_unique<Impl>()) {}
Config::~Config() = default;
Config::Config(Config&&) noexcept = default;
Config& Config::operator=(Config&&) noexcept = default;

Result<Config> Config::Parse(std::string_view text, const std::string& origin) {
  PL_ASSIGN_OR_RETURN(Config c, ParseAnyToml(text, origin));
  PL_RETURN_IF_ERROR(CheckConfigKeys(c.impl_->table, origin));
  return c;
}

Result<Config> Config::ParseAnyToml(std::string_view text, const std::string& origin) {
  Config c;
  c.origin_ = origin;
  try {
    c.impl_->table = toml::parse(text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ":" << e.source().begin.line << ":" << e.source().begin.column << ": " << e.description();
    return InvalidArgument(msg.str());
  }
  return c;
}

Result<Config> Config::Load(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.kind() == ErrorKind::kNotFound) {
      Config c;
      c.origin_ = path;
      return c;
    }
    return text.error();
  }
  return Parse(*text, path);
}

Result<Config> Config::LoadAnyToml(const std::string& path) {
  PL_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseAnyToml(text, path);
}

namespace {

// Dotted lookup that treats quoted segments literally: profiles."claude-code".command.
toml::node_view<const toml::node> Lookup(const toml::table& t, std::string_view key) {
  std::vector<std::string> parts;
  std::string cur;
  bool quoted = false;
  for (char ch : key) {
    if (ch == '"') {
      quoted = !quoted;
    } else if (ch == '.' && !quoted) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(ch);
    }
  }
  parts.push_back(cur);
  toml::node_view<const toml::node> v{t};
  for (const auto& p : parts) v = v[p];
  return v;
}

Error WrongType(const std::string& origin, std::string_view key, const std::string& want) {
  return InvalidArgument(origin + ": key " + std::string(key) + " must be " + want);
}

}  // namespace

Result<std::optional<int64_t>> Config::Int(std::string_view key) const {
  auto v = Lookup(impl_->table, key);
  if (!v) return std::optional<int64_t>();
  if (auto i = v.value<int64_t>(); i && v.is_integer()) return std::optional<int64_t>(*i);
  return WrongType(origin_, key, "an integer");
}

Result<std::optional<double>> Config::Double(std::string_view key) const {
  auto v = Lookup(impl_->table, key);
  if (!v) return std::optional<double>();
  if (v.is_floating_point() || v.is_integer()) return std::optional<double>(*v.value<double>());
  return WrongType(origin_, key, "a number");
}

Result<std::optional<bool>> Config::Bool(std::string_view key) const {
  auto v = Lookup(impl_->table, key);
  if (!v) return std::optional<bool>();
  if (v.is_boolean()) return std::optional<bool>(*v.value<bool>());
  return WrongType(origin_, key, "true or false");
}

Result<std::optional<std::string>> Config::String(std::string_view key) const {
  auto v = Lookup(impl_->table, key);
  if (!v) return std::optional<std::string>();
  if (v.is_string()) return std::optional<std::string>(*v.value<std::string>());
  return WrongType(origin_, key, "a string");
}

Result<std::optional<std::vector<std::string>>> Config::StringArray(std::string_view key) const {
  auto v = Lookup(impl_->table, key);
  if (!v) return std::optional<std::vector<std::string>>();
  const toml::array* arr = v.as_array();
  if (!arr) return WrongType(origin_, key, "an array of strings");
  std::vector<std::string> out;
  for (const auto& el : *arr) {
    if (!el.is_string()) return WrongType(origin_, key, "an array of strings");
    out.push_back(*el.value<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

Result<std::optional<std::map<std::string, std::string>>> Config::StringMap(std::string_view key) const {
  auto v = Lookup(impl_->table, key);
  if (!v) return std::optional<std::map<std::string, std::string>>();
  const toml::table* t = v.as_table();
  if (!t) return WrongType(origin_, key, "a table of strings");
  std::map<std::string, std::string> out;
  for (const auto& [k, val] : *t) {
    if (!val.is_string()) return WrongType(origin_, std::string(key) + "." + std::string(k.str()), "a string");
    out[std::string(k.str())] = *val.value<std::string>();
  }
  return std::optional<std::map<std::string, std::string>>(std::move(out));
}

Result<int64_t> Config::IntOr(std::string_view key, int64_t def) const {
  PL_ASSIGN_OR_RETURN(auto v, Int(key));
  return v.value_or(def);
}
Result<double> Config::DoubleOr(std::string_view key, double def) const {
  PL_ASSIGN_OR_RETURN(auto v, Double(key));
  return v.value_or(def);
}
Result<bool> Config::BoolOr(std::string_view key, bool def) const {
  PL_ASSIGN_OR_RETURN(auto v, Bool(key));
  return v.value_or(def);
}
Result<std::string> Config::StringOr(std::string_view key, const std::string& def) const {
  PL_ASSIGN_OR_RETURN(auto v, String(key));
  return v.value_or(def);
}

std::vector<std::string> Config::Keys(std::string_view table) const {
  std::vector<std::string> out;
  auto v = table.empty() ? toml::node_view<const toml::node>{impl_->table} : Lookup(impl_->table, table);
  if (const toml::table* t = v.as_table())
    for (const auto& [k, _] : *t) out.emplace_back(k.str());
  return out;
}

Result<std::vector<std::map<std::string, std::string>>> Config::TableArray(std::string_view key) const {
  std::vector<std::map<std::string, std::string>> out;
  auto v = Lookup(impl_->table, key);
  if (!v) return out;
  const toml::array* arr = v.as_array();
  if (!arr) return WrongType(origin_, key, "an array of tables ([[" + std::string(key) + "]])");
  for (const auto& el : *arr) {
    const toml::table* t = el.as_table();
    if (!t) return WrongType(origin_, key, "an array of tables");
    std::map<std::string, std::string> m;
    for (const auto& [k, val] : *t) {
      if (val.is_string()) m[std::string(k.str())] = *val.value<std::string>();
      else if (val.is_integer()) m[std::string(k.str())] = std::to_string(*val.value<int64_t>());
      else return WrongType(origin_, std::string(key) + "." + std::string(k.str()), "a string or integer");
    }
    out.push_back(std::move(m));
  }
  return out;
}

bool Config::Has(std::string_view key) const { return static_cast<bool>(Lookup(impl_->table, key)); }

}  // namespace pipeline
