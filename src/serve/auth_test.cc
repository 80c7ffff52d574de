#include "serve/auth.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "testutil/testutil.h"
#include "util/files.h"

namespace pipeline::serve {
namespace {

const std::string kToken(64, 'a');

AuthPolicy Loopback() { return AuthPolicy{true, kToken, "127.0.0.1", 8765}; }
AuthPolicy Open() { return AuthPolicy{false, kToken, "0.0.0.0", 8765}; }

RequestFacts Facts(bool write, std::string host = "127.0.0.1:8765") {
  RequestFacts f;
  f.write = write;
  f.host_header = std::move(host);
  return f;
}

TEST(AuthTest, LoopbackReadsAreOpenWritesNeedTheHeaderOrTheToken) {
  EXPECT_TRUE(CheckRequest(Loopback(), Facts(false)).ok());
  EXPECT_EQ(CheckRequest(Loopback(), Facts(true)).kind(), ErrorKind::kRefused);
  RequestFacts header = Facts(true);
  header.custom_header = "1";
  EXPECT_TRUE(CheckRequest(Loopback(), header).ok());
  RequestFacts bearer = Facts(true);
  bearer.authorization = "Bearer " + kToken;
  EXPECT_TRUE(CheckRequest(Loopback(), bearer).ok());
  bearer.authorization = "Bearer " + std::string(64, 'b');
  EXPECT_FALSE(CheckRequest(Loopback(), bearer).ok());
}

TEST(AuthTest, LoopbackRefusesAForeignHost) {
  EXPECT_FALSE(CheckRequest(Loopback(), Facts(false, "evil.example")).ok());
  EXPECT_FALSE(CheckRequest(Loopback(), Facts(false, "127.0.0.1.evil.example:8765")).ok());
  EXPECT_TRUE(CheckRequest(Loopback(), Facts(false, "localhost:8765")).ok());
  EXPECT_TRUE(CheckRequest(Loopback(), Facts(false, "[::1]:8765")).ok());
}

TEST(AuthTest, BeyondLoopbackEverythingNeedsTheToken) {
  EXPECT_FALSE(CheckRequest(Open(), Facts(false, "host")).ok());
  RequestFacts q = Facts(false, "host");
  q.query_token = kToken;
  EXPECT_TRUE(CheckRequest(Open(), q).ok());
  // The query form never authorizes a write, nor does the custom header.
  RequestFacts w = Facts(true, "host");
  w.query_token = kToken;
  w.custom_header = "1";
  EXPECT_FALSE(CheckRequest(Open(), w).ok());
  w.authorization = "Bearer " + kToken;
  EXPECT_TRUE(CheckRequest(Open(), w).ok());
  w.authorization = "Basic " + kToken;
  EXPECT_FALSE(CheckRequest(Open(), w).ok());
}

TEST(AuthTest, TokenFileIsCreatedPrivateAndReused) {
  testing::TempDir dir;
  const std::string path = dir / "serve-token";
  auto first = LoadOrCreateToken(path);
  ASSERT_TRUE(first.ok()) << first.message();
  EXPECT_EQ(first->size(), 64u);
  struct stat st {};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto again = LoadOrCreateToken(path);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *first);
  chmod(path.c_str(), 0644);
  EXPECT_EQ(LoadOrCreateToken(path).kind(), ErrorKind::kRefused);
}

TEST(AuthTest, SameSecretComparesWholeStrings) {
  EXPECT_TRUE(SameSecret("abc", "abc"));
  EXPECT_FALSE(SameSecret("abc", "abd"));
  EXPECT_FALSE(SameSecret("abc", "ab"));
}

}  // namespace
}  // namespace pipeline::serve
