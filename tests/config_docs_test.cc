// docs/configuration.md shows every key the configuration accepts, in its
// section: the page and the schema (src/config/default_config.cc) agree.
#include <gtest/gtest.h>

#include <sstream>

#include "config/config.h"
#include "config/config_schema.h"
#include "testutil/testutil.h"

namespace pipeline::testing {
namespace {

// The lines of the first ```toml block after "## A complete example".
std::vector<std::string> ExampleLines() {
  std::string doc = ReadTextFile(SourceDir() + "/docs/configuration.md");
  size_t start = doc.find("```toml", doc.find("## A complete example"));
  size_t end = doc.find("```\n", start + 7);
  std::vector<std::string> lines;
  std::istringstream in(doc.substr(start + 8, end - start - 8));
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(ConfigDocs, TheCompleteExampleIsAValidConfiguration) {
  std::string text;
  for (const auto& l : ExampleLines()) text += l + "\n";
  auto c = Config::Parse(text, "docs/configuration.md");
  EXPECT_TRUE(c.ok()) << c.message();
}

TEST(ConfigDocs, EveryKeyOfTheSchemaIsInTheExampleUnderItsSection) {
  std::vector<std::string> lines = ExampleLines();
  for (const auto& sec : ConfigSchema()) {
    std::string path(sec.path);
    std::string header = sec.array_of_tables ? "[[" + path + "]]" : "[" + path.substr(0, path.find('*'));
    if (path.find('*') == std::string::npos && !sec.array_of_tables) header += "]";
    size_t at = 0;
    while (at < lines.size() && lines[at].rfind(header, 0) != 0) ++at;
    ASSERT_LT(at, lines.size()) << "no " << header << " in docs/configuration.md";
    for (const auto& k : sec.keys) {
      bool found = false;
      for (size_t i = at + 1; i < lines.size() && (lines[i].empty() || lines[i][0] != '['); ++i)
        if (lines[i].rfind(std::string(k.name) + " = ", 0) == 0) found = true;
      EXPECT_TRUE(found) << sec.path << "." << k.name << " is not shown in docs/configuration.md";
    }
  }
}

}  // namespace
}  // namespace pipeline::testing
