#include "oomkit/core/config.h"

#include <string>

#include <gtest/gtest.h>

namespace oomkit::core {
namespace {

TEST(HandlerTypeTest, NamesRoundTrip) {
  for (const HandlerType type :
       {HandlerType::kExec, HandlerType::kGrowLimit, HandlerType::kMemoryReclaim}) {
    SCOPED_TRACE(std::string(handlerTypeName(type)));

    EXPECT_EQ(handlerTypeFromName(handlerTypeName(type)), type);
  }
  EXPECT_EQ(handlerTypeName(HandlerType::kGrowLimit), "grow-limit");
  EXPECT_EQ(handlerTypeFromName("grow_limit"), std::nullopt);
}

TEST(PanicActionTest, NamesRoundTrip) {
  for (const PanicAction action :
       {PanicAction::kLog, PanicAction::kReboot, PanicAction::kCrash, PanicAction::kExec}) {
    SCOPED_TRACE(std::string(panicActionName(action)));

    EXPECT_EQ(panicActionFromName(panicActionName(action)), action);
  }
  EXPECT_EQ(panicActionFromName("Log"), std::nullopt);
}

TEST(ResolveWatermarksTest, ResolvesEachAgainstTheScopesSize) {
  const Watermarks w;  // 5%, 10%, 15%

  const WatermarkBytes bytes = resolveWatermarks(w, 1000);

  EXPECT_EQ(bytes.min_bytes, 50U);
  EXPECT_EQ(bytes.low_bytes, 100U);
  EXPECT_EQ(bytes.high_bytes, 150U);
}

TEST(ConfigKeysTest, CountFromZero) {
  EXPECT_EQ(scopeKey(0), "scope[0]");
  EXPECT_EQ(handlerKey(1, 2), "scope[1].handler[2]");
}

TEST(ConfigDefaultsTest, ModelDefaultsAreTheDocumentedOnes) {
  const ScopeConfig scope;
  const HandlerConfig handler;

  EXPECT_TRUE(scope.isGlobal());
  EXPECT_EQ(scope.policy.panic_on_oom, PanicOnOom::kOff);
  EXPECT_EQ(scope.policy.panic_action, PanicAction::kLog);
  EXPECT_EQ(scope.policy.reap_timeout, Seconds(5.0));
  EXPECT_FALSE(scope.kill.sigterm_first);
  EXPECT_EQ(scope.kill.sigterm_grace, Millis(2000));
  EXPECT_EQ(handler.exec.timeout, Millis(10000));
  EXPECT_EQ(handler.priority, 0);
  EXPECT_EQ(DaemonConfig{}.event_log, "-");
}

}  // namespace
}  // namespace oomkit::core
