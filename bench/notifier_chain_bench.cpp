// NotifierChain cost: per walk with 1, 10 and 100 handlers (items = handler calls, so
// items_per_second gives the cost of one handler call), the same with walks on two threads at
// once (the shared lock), a robust walk, a registration, and a bare std::function call as the
// floor. Every handler does what an OOM reclaim handler minimally does: adds to *freed.
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <functional>

#include <benchmark/benchmark.h>

#include "oomkit/core/notifier_chain.h"

namespace oomkit::core {
namespace {

using Chain = NotifierChain<uint64_t*>;
using Block = Chain::Block;

int freeOnePage(unsigned long /*val*/, uint64_t* freed) {
  *freed += 4096;
  return kNotifyOk;
}

// `n` blocks of varied priorities, registered on `chain`. A deque keeps their addresses.
std::deque<Block> makeBlocks(Chain& chain, int64_t n) {
  std::deque<Block> blocks;
  for (int64_t i = 0; i < n; ++i) {
    blocks.push_back(Block{freeOnePage, static_cast<int>(i % 7)});
    if (!chain.registerBlock(blocks.back())) std::abort();
  }
  return blocks;
}

void BM_NotifierChainCall(benchmark::State& state) {
  static Chain chain;  // shared by the threads of the threaded variant
  static std::deque<Block> blocks;
  if (state.thread_index() == 0) blocks = makeBlocks(chain, state.range(0));
  uint64_t freed = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(chain.call(0, &freed));
  }
  benchmark::DoNotOptimize(freed);
  state.SetItemsProcessed(state.iterations() * state.range(0));
  if (state.thread_index() == 0) {
    for (Block& b : blocks) {
      (void)chain.unregisterBlock(b);  // all registered above: cannot fail
    }
    blocks.clear();
  }
}
BENCHMARK(BM_NotifierChainCall)->Arg(1)->Arg(10)->Arg(100);
BENCHMARK(BM_NotifierChainCall)->Arg(10)->Threads(2);

void BM_NotifierChainCallRobust(benchmark::State& state) {
  Chain chain;
  const std::deque<Block> blocks = makeBlocks(chain, state.range(0));
  uint64_t freed = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(chain.callRobust(0, 1, &freed));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_NotifierChainCallRobust)->Arg(10);

// registerBlock() + unregisterBlock() of one block on a chain of range(0) others.
void BM_NotifierChainRegister(benchmark::State& state) {
  Chain chain;
  const std::deque<Block> blocks = makeBlocks(chain, state.range(0));
  Block extra{freeOnePage, 3};
  for (auto _ : state) {
    benchmark::DoNotOptimize(chain.registerBlock(extra));
    benchmark::DoNotOptimize(chain.unregisterBlock(extra));
  }
}
BENCHMARK(BM_NotifierChainRegister)->Arg(10)->Arg(100);

// The floor: one call through std::function, as the walk makes for each handler.
void BM_StdFunctionCall(benchmark::State& state) {
  const std::function<int(unsigned long, uint64_t*)> fn = freeOnePage;
  uint64_t freed = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(fn(0, &freed));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StdFunctionCall);

}  // namespace
}  // namespace oomkit::core
