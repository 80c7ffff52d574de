// `pipeline fund` as the seed and people call it: every check and spend
// form exactly as docs/protocol.md ("fund") writes it, the JSON shapes, the
// multi-call name, and bad input that must change nothing.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "testutil/testutil.h"
#include "util/files.h"

namespace pipeline {
namespace {

using testing::RunArgv;
using testing::RunPipeline;
using testing::TempDir;
using nlohmann::json;

class FundCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = {{"PIPELINE_ROOT", dir_ / ".pipeline"}};
    auto r = RunPipeline({"init"}, dir_.path(), env_);
    ASSERT_TRUE(r.ok()) << r.err;
  }
  CommandResult Fund(const std::vector<std::string>& args) {
    std::vector<std::string> a = {"fund"};
    a.insert(a.end(), args.begin(), args.end());
    return RunPipeline(a, dir_.path(), env_);
  }
  json FundJson(const std::vector<std::string>& args) {
    auto r = Fund(args);
    EXPECT_TRUE(r.ok()) << r.err;
    auto j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not one JSON document: " << r.out;
    return j;
  }
  // Everything a change could touch.
  std::string Snapshot() {
    return Fund({"report", "--json"}).out + Fund({"history", "--json"}).out;
  }

  TempDir dir_;
  std::map<std::string, std::string> env_;
};

TEST_F(FundCliTest, SeedCheckFormsAnswerOneObjectWithABoolAndANumber) {
  ASSERT_TRUE(Fund({"grant", "--domain", "Omni/A.hs", "--cents", "1000"}).ok());
  for (const auto& form : std::vector<std::vector<std::string>>{
           {"check", "--domain", "Omni/A.hs", "--reserve-cents", "300", "--json"},
           {"budget", "--domain", "Omni/A.hs", "--json"},
           {"available", "--domain", "Omni/A.hs", "--json"},
           {"can-spend", "--domain", "Omni/A.hs", "--cents", "300", "--json"}}) {
    json j = FundJson(form);
    ASSERT_TRUE(j.is_object()) << form[0];
    ASSERT_TRUE(j["available"].is_boolean()) << form[0];
    ASSERT_TRUE(j["remaining_cents"].is_number_integer()) << form[0];
    EXPECT_TRUE(j["available"].get<bool>()) << form[0];
    EXPECT_EQ(j["remaining_cents"], 1000);
    EXPECT_EQ(j["domain"], "Omni/A.hs");
  }
  json no = FundJson({"check", "--domain", "Omni/A.hs", "--reserve-cents", "1001", "--json"});
  EXPECT_FALSE(no["available"].get<bool>());
  no = FundJson({"can-spend", "--domain", "Omni/A.hs", "--cents", "1001", "--json"});
  EXPECT_FALSE(no["available"].get<bool>());
}

TEST_F(FundCliTest, UnknownDomainIsNotAvailableButExitsZero) {
  auto r = Fund({"check", "--domain", "Omni/New.hs", "--reserve-cents", "300", "--json"});
  ASSERT_EQ(r.exit.exit_code, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["available"], false);
  EXPECT_EQ(j["remaining_cents"], 0);
  EXPECT_EQ(Fund({"report", "--json"}).out, "[]\n");  // check created nothing
  EXPECT_EQ(Fund({"reserve", "--domain", "Omni/New.hs", "--run-id", "r1", "--cents", "1"}).exit.exit_code, 1);
}

TEST_F(FundCliTest, DefaultBudgetComesFromConfig) {
  testing::WriteTextFile(dir_ / ".pipeline/config.toml", "[fund]\ndefault_budget_cents = 450\n");
  json j = FundJson({"check", "--domain", "d", "--reserve-cents", "300", "--json"});
  EXPECT_EQ(j["available"], true);
  EXPECT_EQ(j["remaining_cents"], 450);
  testing::WriteTextFile(dir_ / ".pipeline/config.toml", "[fund]\ndefault_budget_cents = \"lots\"\n");
  auto r = Fund({"check", "--domain", "d", "--json"});
  EXPECT_NE(r.exit.exit_code, 0);
  EXPECT_NE(r.err.find("default_budget_cents"), std::string::npos) << r.err;
}

TEST_F(FundCliTest, SeedSpendFormsAndIdempotenceOnRunId) {
  ASSERT_TRUE(Fund({"grant", "--domain", "D", "--cents", "1000"}).ok());
  auto spend = std::vector<std::string>{"spend", "--domain", "D", "--task-id", "t-1", "--run-id", "t-1-run", "--cents", "120", "--json"};
  json first = FundJson(spend);
  EXPECT_EQ(first["already_settled"], false);
  json second = FundJson(spend);  // a caller's crash-and-retry (docs/protocol.md, "Settle is idempotent per run id")
  EXPECT_EQ(second["already_settled"], true);
  EXPECT_TRUE(FundJson({"debit", "--domain", "D", "--cents", "30", "--json"}).is_object());
  EXPECT_TRUE(FundJson({"record", "--domain", "D", "--cost-cents", "5", "--task-id", "t-2", "--json"}).is_object());
  json rep = FundJson({"report", "--json"});
  ASSERT_TRUE(rep.is_array());
  ASSERT_EQ(rep.size(), 1u);
  EXPECT_EQ(rep[0]["spent_cents"], 155);
  EXPECT_EQ(rep[0]["remaining_cents"], 845);
  // Zero-cent spends are accepted (failed runs).
  EXPECT_TRUE(Fund({"spend", "--domain", "D", "--task-id", "t-3", "--run-id", "z", "--cents", "0", "--json"}).ok());
}

TEST_F(FundCliTest, ReserveSettleReleaseAndOverrun) {
  ASSERT_TRUE(Fund({"set", "--domain", "D", "--cents", "500"}).ok());
  json h = FundJson({"reserve", "--domain", "D", "--run-id", "r1", "--cents", "300", "--task-id", "t", "--json"});
  EXPECT_EQ(h["state"], "held");
  EXPECT_EQ(h["cents"], 300);
  FundJson({"reserve", "--domain", "D", "--run-id", "r1", "--cents", "300", "--json"});  // idempotent
  auto refused = Fund({"reserve", "--domain", "D", "--run-id", "r2", "--cents", "201"});
  EXPECT_EQ(refused.exit.exit_code, 1);
  EXPECT_NE(refused.err.find("200 cents left"), std::string::npos) << refused.err;
  json s = FundJson({"settle", "--run-id", "r1", "--cents", "350", "--json"});
  EXPECT_EQ(s["overrun"], true);
  EXPECT_EQ(s["spent_cents"], 350);
  auto again = Fund({"settle", "--run-id", "r1", "--cents", "350"});
  EXPECT_EQ(again.exit.exit_code, 0);
  EXPECT_NE(again.out.find("already settled"), std::string::npos);
  json c = FundJson({"check", "--domain", "D", "--reserve-cents", "1", "--json"});
  EXPECT_EQ(c["available"], false);  // blocked although 150 cents remain
  EXPECT_EQ(c["remaining_cents"], 150);
  EXPECT_EQ(Fund({"reserve", "--domain", "D", "--run-id", "r3", "--cents", "1"}).exit.exit_code, 1);
  ASSERT_TRUE(Fund({"grant", "--domain", "D", "--cents", "100"}).ok());
  ASSERT_TRUE(Fund({"reserve", "--domain", "D", "--run-id", "r3", "--cents", "100"}).ok());
  json rel = FundJson({"release", "--run-id", "r3", "--json"});
  EXPECT_EQ(rel["state"], "released");
  json rep = FundJson({"report", "--json"});
  EXPECT_EQ(rep[0]["held_cents"], 0);
  EXPECT_EQ(rep[0]["spent_cents"], 350);
  EXPECT_EQ(rep[0]["budget_cents"], 600);
  json hist = FundJson({"history", "--domain", "D", "--json"});
  ASSERT_TRUE(hist.is_array());
  EXPECT_EQ(hist.back()["kind"], "release");
}

TEST_F(FundCliTest, MultiCallNameActsAsFund) {
  std::string bin = testing::PipelineBin() + "-fund";
  auto r = RunArgv({bin, "grant", "--domain", "M", "--cents", "42", "--json"}, dir_.path(), env_);
  ASSERT_TRUE(r.ok()) << r.err;
  auto c = RunArgv({bin, "check", "--domain", "M", "--reserve-cents", "42", "--json"}, dir_.path(), env_);
  ASSERT_TRUE(c.ok()) << c.err;
  json j = json::parse(c.out);
  EXPECT_EQ(j["available"], true);
  EXPECT_EQ(j["remaining_cents"], 42);
}

TEST_F(FundCliTest, DomainsAreDataStoredVerbatim) {
  for (std::string d : {"$(touch pwned)", "a\"b'c", "x/../y", "ünï"}) {
    ASSERT_TRUE(Fund({"grant", "--domain", d, "--cents", "7"}).ok()) << d;
    json j = FundJson({"check", "--domain", d, "--reserve-cents", "7", "--json"});
    EXPECT_EQ(j["domain"], d);
    EXPECT_EQ(j["available"], true);
  }
  EXPECT_FALSE(PathExists(dir_ / "pwned"));
}

TEST_F(FundCliTest, BadInputIsOneLineExitTwoAndChangesNothing) {
  ASSERT_TRUE(Fund({"grant", "--domain", "D", "--cents", "1000"}).ok());
  ASSERT_TRUE(Fund({"reserve", "--domain", "D", "--run-id", "r1", "--cents", "100"}).ok());
  std::string before = Snapshot();
  for (std::string bad : {"12.5", "1e3", "-1", "", "abc", "99999999999999999999", " 5", "+5", "0x10"}) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"grant", "--domain", "D", "--cents", bad},
             {"set", "--domain", "D", "--cents", bad},
             {"reserve", "--domain", "D", "--run-id", "r9", "--cents", bad},
             {"settle", "--run-id", "r1", "--cents", bad},
             {"spend", "--domain", "D", "--run-id", "r8", "--cents", bad, "--json"},
             {"debit", "--domain", "D", "--cents", bad, "--json"},
             {"record", "--domain", "D", "--cost-cents", bad, "--json"},
             {"check", "--domain", "D", "--reserve-cents", bad, "--json"}}) {
      auto r = Fund(args);
      EXPECT_EQ(r.exit.exit_code, 2) << args[0] << " " << bad << ": " << r.err;
      EXPECT_TRUE(r.out.empty()) << r.out;
      ASSERT_FALSE(r.err.empty());
      EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "more than one line: " << r.err;
      EXPECT_EQ(r.err.rfind("pipeline", 0), 0u) << r.err;
    }
  }
  for (std::string bad_domain : {std::string(""), std::string("a\nb"), std::string("bell\a"), std::string("\xc3\x28")}) {
    auto r = Fund({"grant", "--domain", bad_domain, "--cents", "5"});
    EXPECT_EQ(r.exit.exit_code, 2) << r.err;
    auto s = Fund({"spend", "--domain", bad_domain, "--run-id", "q", "--cents", "5", "--json"});
    EXPECT_EQ(s.exit.exit_code, 2) << s.err;
  }
  EXPECT_EQ(Fund({"bogus"}).exit.exit_code, 2);
  EXPECT_EQ(Fund({"grant", "--domain", "D"}).exit.exit_code, 2);  // missing --cents
  EXPECT_EQ(Fund({"settle", "--run-id", "unknown", "--cents", "1"}).exit.exit_code, 1);
  EXPECT_EQ(Snapshot(), before);
}

}  // namespace
}  // namespace pipeline
