#include <signal.h>
#include <gtest/gtest.h>
#include "support/file_io.h"
#include "support/memcg.h"
#include "support/subprocess.h"
namespace oomkit::test {
TEST(Tmp, ForeignProcessIsNotKilled) {
  auto memcg = TestMemcg::create(32 << 20);
  ASSERT_TRUE(memcg);
  auto sh = runCommand({"/bin/sh", "-c", "sleep 30 </dev/null >/dev/null 2>&1 & echo $!"});
  pid_t orphan = static_cast<pid_t>(parseUint(sh->out).value_or(0));
  ASSERT_TRUE(writeFile(memcg->procsFile(), std::to_string(orphan)));
  auto destroyed = memcg->destroy();
  EXPECT_FALSE(destroyed);
  if (!destroyed) std::printf("msg: %s\n", destroyed.error().message.c_str());
  EXPECT_TRUE(fileExists("/proc/" + std::to_string(orphan) + "/cmdline"));
  memcg->adopt(orphan);
  EXPECT_TRUE(memcg->destroy());
}
}
