// tools/orderfile_recorder.cpp — linked only into the training build of tools/orderfile.sh
// (cmake -DOOMKIT_ORDERFILE_TRAINING=ON, every function compiled with -finstrument-functions).
//
// Records each function the daemon enters once it has started shedding its start-up pages
// (the first call of oomkit::sys::dropCleanFilePages arms it): the functions that must stay
// resident. At exit, if OOMKIT_ORDERFILE_OUT is set, writes "<first-entry index> <offset from
// the start of the executable, 16 hex digits as nm prints addresses>" per function to $OOMKIT_ORDERFILE_OUT.<pid>.
// GCC calls the hooks from every instrumented function on every thread, before anything
// is set up: no allocation, no locks, nothing instrumented in here — hence GCC's __atomic
// builtins rather than std::atomic, whose inline members would be instrumented themselves.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "oomkit/sys/resident_set.h"

#define NOT_INSTRUMENTED __attribute__((no_instrument_function))

extern "C" char __executable_start;  // the linker's: the executable's first byte

namespace {

constexpr size_t kSlots = size_t{1} << 17;  // far more than the daemon's functions
uintptr_t g_functions[kSlots];
uint32_t g_first_entry[kSlots];
uint32_t g_entries = 0;
bool g_armed = false;

NOT_INSTRUMENTED void record(uintptr_t function) {
  size_t slot = (function * 0x9E3779B97F4A7C15ULL) >> 47;  // 17 bits of a multiplicative hash
  for (size_t probes = 0; probes < kSlots; ++probes, slot = (slot + 1) % kSlots) {
    uintptr_t seen = __atomic_load_n(&g_functions[slot], __ATOMIC_RELAXED);
    if (seen == function) return;
    if (seen == 0 && __atomic_compare_exchange_n(&g_functions[slot], &seen, function, false,
                                                 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      __atomic_store_n(&g_first_entry[slot], __atomic_fetch_add(&g_entries, 1, __ATOMIC_SEQ_CST),
                       __ATOMIC_SEQ_CST);
      return;
    }
    if (seen == function) return;
  }
}

NOT_INSTRUMENTED __attribute__((destructor)) void writeProfile() {
  const char* out = std::getenv("OOMKIT_ORDERFILE_OUT");
  if (!out || !__atomic_load_n(&g_armed, __ATOMIC_SEQ_CST)) return;
  char path[4096];
  std::snprintf(path, sizeof path, "%s.%d", out, static_cast<int>(::getpid()));
  FILE* file = std::fopen(path, "w");
  if (!file) return;
  const auto base = reinterpret_cast<uintptr_t>(&__executable_start);
  for (size_t slot = 0; slot < kSlots; ++slot) {
    if (const uintptr_t function = __atomic_load_n(&g_functions[slot], __ATOMIC_SEQ_CST)) {
      std::fprintf(file, "%u %016lx\n", __atomic_load_n(&g_first_entry[slot], __ATOMIC_SEQ_CST),
                   static_cast<unsigned long>(function - base));
    }
  }
  std::fclose(file);
}

}  // namespace

extern "C" NOT_INSTRUMENTED void __cyg_profile_func_enter(void* function, void* /*call_site*/) {
  const auto address = reinterpret_cast<uintptr_t>(function);
  if (!__atomic_load_n(&g_armed, __ATOMIC_RELAXED)) {
    if (address != reinterpret_cast<uintptr_t>(&oomkit::sys::dropCleanFilePages)) return;
    __atomic_store_n(&g_armed, true, __ATOMIC_SEQ_CST);
  }
  record(address);
}

extern "C" NOT_INSTRUMENTED void __cyg_profile_func_exit(void* /*function*/, void* /*call_site*/) {}
