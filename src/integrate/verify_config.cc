#include "integrate/verify_config.h"

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

}  // namespace

Result<std::optional<VerifyCommand>> VerifyCommandFor(const Config& config, const std::string& domain,
                                                      const std::string& ns) {
  const std::string domain_key = "verify.domains.\"" + domain + "\"";
  std::optional<std::vector<std::string>> argv;
  std::optional<int64_t> timeout;
  if (!domain.empty() && domain.find('"') == std::string::npos) {
    PL_ASSIGN_OR_RETURN(argv, config.StringArray(domain_key + ".command"));
    PL_ASSIGN_OR_RETURN(timeout, config.Int(domain_key + ".timeout_s"));
  }
  // A domain table that names no command inherits the default one.
  if (!argv) {
    PL_ASSIGN_OR_RETURN(argv, config.StringArray("verify.command"));
  }
  if (!timeout) {
    PL_ASSIGN_OR_RETURN(timeout, config.Int("verify.timeout_s"));
  }
  const int64_t timeout_s = timeout.value_or(kDefaultVerifyTimeoutS);
  if (timeout_s < 1) return InvalidArgument(config.origin() + ": verify timeout_s must be at least 1");
  if (!argv || argv->empty()) return std::optional<VerifyCommand>();
  if (argv->front().empty()) return InvalidArgument(config.origin() + ": verify command names an empty program");
  VerifyCommand cmd;
  cmd.timeout_s = timeout_s;
  for (const std::string& a : *argv) cmd.argv.push_back(Substitute(a, ns, domain));
  return std::optional<VerifyCommand>(std::move(cmd));
}

}  // namespace pipeline
