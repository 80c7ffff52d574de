#include "config/verify.h"

namespace pipeline {
namespace {

// One pass, so a namespace that itself contains "{domain}" stays as written.
std::string Substitute(const std::string& s, const std::string& ns, const std::string& domain) {
  static const std::string kNs = "{namespace}", kDomain = "{domain}";
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, kNs.size(), kNs) == 0) {
      out += ns;
      i += kNs.size();
    } else if (s.compare(i, kDomain.size(), kDomain) == 0) {
      out += domain;
      i += kDomain.size();
    } else {
      out += s[i++];
    }
  }
  return out;
}

Result<VerifyConfig::Table> ReadTable(const Config& config, const std::string& table) {
  VerifyConfig::Table t;
  PL_ASSIGN_OR_RETURN(t.command, config.StringArray(table + ".command"));
  PL_ASSIGN_OR_RETURN(t.timeout_s, config.Int(table + ".timeout_s"));
  if (t.timeout_s && *t.timeout_s < 1)
    return InvalidArgument(config.origin() + ": key " + table + ".timeout_s must be at least 1");
  if (t.command && !t.command->empty() && t.command->front().empty())
    return InvalidArgument(config.origin() + ": key " + table + ".command names an empty program");
  return t;
}

}  // namespace

std::optional<VerifyCommand> VerifyConfig::For(const std::string& domain, const std::string& ns) const {
  const Table* own = nullptr;
  if (!domain.empty()) {
    auto it = domains.find(domain);
    if (it != domains.end()) own = &it->second;
  }
  // A domain table that names no command (or no timeout) inherits [verify]'s.
  const auto& argv = own && own->command ? own->command : fallback.command;
  const auto& timeout = own && own->timeout_s ? own->timeout_s : fallback.timeout_s;
  if (!argv || argv->empty()) return std::nullopt;
  VerifyCommand cmd;
  cmd.timeout_s = timeout.value_or(kDefaultVerifyTimeoutS);
  for (const std::string& a : *argv) cmd.argv.push_back(Substitute(a, ns, domain));
  return cmd;
}

Result<VerifyConfig> ReadVerifyConfig(const Config& config) {
  VerifyConfig v;
  PL_ASSIGN_OR_RETURN(v.fallback, ReadTable(config, "verify"));
  for (const std::string& d : config.Keys("verify.domains")) {
    // A domain name goes into a dotted key as a quoted TOML key; one holding
    // a quote cannot be addressed that way and is refused, not skipped.
    if (d.find('"') != std::string::npos)
      return InvalidArgument(config.origin() + ": verify.domains: a domain name must not contain '\"': " + d);
    PL_ASSIGN_OR_RETURN(v.domains[d], ReadTable(config, "verify.domains.\"" + d + "\""));
  }
  return v;
}

}  // namespace pipeline
