#include "config/config_check.h"

#include <algorithm>
#include <cctype>

#include "config/config_schema.h"

namespace pipeline {
namespace {

using Path = std::vector<std::string>;

Path Split(std::string_view dotted) {
  Path out;
  size_t start = 0;
  while (true) {
    size_t dot = dotted.find('.', start);
    out.emplace_back(dotted.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
    if (dot == std::string_view::npos) return out;
    start = dot + 1;
  }
}

// profiles."claude-code".command: names that are not bare TOML keys are quoted.
std::string Join(const Path& p) {
  std::string out;
  for (const auto& seg : p) {
    bool bare = !seg.empty();
    for (char c : seg)
      if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) bare = false;
    if (!out.empty()) out += ".";
    out += bare ? seg : "\"" + seg + "\"";
  }
  return out;
}

bool PrefixMatches(const Path& pattern, const Path& path) {
  if (path.size() > pattern.size()) return false;
  for (size_t i = 0; i < path.size(); ++i)
    if (pattern[i] != "*" && pattern[i] != path[i]) return false;
  return true;
}

bool TypeFits(ConfigType t, const toml::node& n) {
  switch (t) {
    case ConfigType::kInt: return n.is_integer();
    case ConfigType::kNumber: return n.is_integer() || n.is_floating_point();
    case ConfigType::kBool: return n.is_boolean();
    case ConfigType::kString: return n.is_string();
    case ConfigType::kStringArray: {
      const toml::array* a = n.as_array();
      if (!a) return false;
      for (const auto& el : *a)
        if (!el.is_string()) return false;
      return true;
    }
    case ConfigType::kStringTable: {
      const toml::table* tb = n.as_table();
      if (!tb) return false;
      for (const auto& [k, v] : *tb)
        if (!v.is_string()) return false;
      return true;
    }
  }
  return false;
}

class Checker {
 public:
  explicit Checker(const std::string& origin) : origin_(origin) {
    for (const auto& s : ConfigSchema()) patterns_.push_back({Split(s.path), &s});
  }

  Status Table(const toml::table& t, const Path& path) {
    const ConfigSectionSpec* sec = SectionAt(path);
    for (const auto& [k, node] : t) {
      std::string key(k.str());
      Path child = path;
      child.push_back(key);
      if (sec) {
        if (const ConfigKeySpec* spec = KeyOf(*sec, key)) {
          if (!TypeFits(spec->type, node))
            return Err(node, "key " + Join(child) + " must be " + ConfigTypeName(spec->type));
          continue;
        }
      }
      const ConfigSectionSpec* sub = SectionAt(child);
      bool intermediate = !sub && IsIntermediate(child);
      if (sub || intermediate) {
        if (sub && sub->array_of_tables) {
          const toml::array* arr = node.as_array();
          if (!arr || !arr->is_array_of_tables())
            return Err(node, Join(child) + " must be an array of tables ([[" + Join(child) + "]])");
          for (const auto& el : *arr) PL_RETURN_IF_ERROR(Table(*el.as_table(), child));
          continue;
        }
        const toml::table* tb = node.as_table();
        if (!tb) return Err(node, Join(child) + " must be a table ([" + Join(child) + "])");
        PL_RETURN_IF_ERROR(Table(*tb, child));
        continue;
      }
      return Unknown(node, path, sec, key);
    }
    return Status::Ok();
  }

 private:
  struct Pattern {
    Path path;
    const ConfigSectionSpec* spec;
  };

  const ConfigSectionSpec* SectionAt(const Path& path) const {
    for (const auto& p : patterns_)
      if (p.path.size() == path.size() && PrefixMatches(p.path, path)) return p.spec;
    return nullptr;
  }
  // A table that only holds named sections: "profiles", "verify.domains".
  bool IsIntermediate(const Path& path) const {
    for (const auto& p : patterns_)
      if (p.path.size() > path.size() && PrefixMatches(p.path, path)) return true;
    return false;
  }
  static const ConfigKeySpec* KeyOf(const ConfigSectionSpec& sec, std::string_view key) {
    for (const auto& k : sec.keys)
      if (k.name == key) return &k;
    return nullptr;
  }

  Status Unknown(const toml::node& node, const Path& path, const ConfigSectionSpec* sec, const std::string& key) {
    // `env = { ... }` is a key holding a table, [env] a section.
    bool table = (node.is_table() && !node.as_table()->is_inline()) || node.is_array_of_tables();
    // Names that could be meant at this level: the section's keys, the fixed
    // names of the tables below it.
    std::vector<std::string> keys, tables;
    if (sec)
      for (const auto& k : sec->keys) keys.emplace_back(k.name);
    for (const auto& p : patterns_)
      if (p.path.size() > path.size() && PrefixMatches(p.path, path) && p.path[path.size()] != "*")
        tables.push_back(p.path[path.size()]);
    Path child = path;
    child.push_back(key);
    std::string msg = "unknown " + std::string(table ? "section [" + Join(child) + "]" : "key " + Join(child));
    std::vector<std::string> all = keys;
    all.insert(all.end(), tables.begin(), tables.end());
    std::string near = NearestName(key, all);
    if (!near.empty()) {
      bool near_is_table = std::find(tables.begin(), tables.end(), near) != tables.end();
      Path fixed = path;
      fixed.push_back(near);
      if (near_is_table) msg += "; did you mean [" + Join(fixed) + "]?";
      else msg += "; did you mean " + near + "?";
      return Err(node, msg);
    }
    // The right name in the wrong place: [agent] max_active, or a key above every section.
    if (!table) {
      for (const auto& p : patterns_) {
        if (p.spec->path.find('*') != std::string_view::npos || p.spec->array_of_tables) continue;
        if (KeyOf(*p.spec, key) && p.path != path) return Err(node, msg + "; did you mean " + Join(p.path) + "." + key + "?");
      }
    }
    return Err(node, msg);
  }

  Status Err(const toml::node& node, const std::string& what) const {
    auto line = node.source().begin.line;
    return InvalidArgument(origin_ + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + what);
  }

  const std::string& origin_;
  std::vector<Pattern> patterns_;
};

}  // namespace

Status CheckConfigKeys(const toml::table& root, const std::string& origin) {
  Checker c(origin);
  return c.Table(root, {});
}

}  // namespace pipeline
