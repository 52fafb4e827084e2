// tools/orderfile_recorder.cpp — linked only into the training build of tools/orderfile.sh
// (cmake -DOOMKIT_ORDERFILE_TRAINING=ON, every function compiled with -finstrument-functions).
//
// Records each function the process enters, and whether it entered it once the daemon had
// started shedding its start-up pages (the first call of oomkit::sys::dropCleanFilePages):
// those must stay resident; the others are start-up code, shed once the daemon runs. At exit,
// if OOMKIT_ORDERFILE_OUT is set, writes one line per function to $OOMKIT_ORDERFILE_OUT.<pid>:
// "<phase> <entry index> <offset from the start of the executable, 16 hex digits as nm prints
// addresses>", phase "run" (entered since the shed; index of its first entry since then) or
// "start" (entered before it only; index of its first entry).
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
uint32_t g_first_entry[kSlots];      // index of the first entry
uint32_t g_first_run_entry[kSlots];  // 1 + index of the first entry since the shed; 0: none
uint32_t g_entries = 0;
bool g_armed = false;

// Notes an entry of the function at `slot`, which this entry may have just claimed.
NOT_INSTRUMENTED void noteEntry(size_t slot, bool claimed_now) {
  if (claimed_now) {
    __atomic_store_n(&g_first_entry[slot], __atomic_fetch_add(&g_entries, 1, __ATOMIC_SEQ_CST),
                     __ATOMIC_SEQ_CST);
  }
  if (!__atomic_load_n(&g_armed, __ATOMIC_RELAXED)) return;
  if (__atomic_load_n(&g_first_run_entry[slot], __ATOMIC_RELAXED) != 0) return;
  uint32_t none = 0;
  __atomic_compare_exchange_n(&g_first_run_entry[slot], &none,
                              1 + __atomic_fetch_add(&g_entries, 1, __ATOMIC_SEQ_CST), false,
                              __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}

NOT_INSTRUMENTED void record(uintptr_t function) {
  size_t slot = (function * 0x9E3779B97F4A7C15ULL) >> 47;  // 17 bits of a multiplicative hash
  for (size_t probes = 0; probes < kSlots; ++probes, slot = (slot + 1) % kSlots) {
    uintptr_t seen = __atomic_load_n(&g_functions[slot], __ATOMIC_RELAXED);
    if (seen == function) return noteEntry(slot, false);
    if (seen == 0 && __atomic_compare_exchange_n(&g_functions[slot], &seen, function, false,
                                                 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      return noteEntry(slot, true);
    }
    if (seen == function) return noteEntry(slot, false);
  }
}

NOT_INSTRUMENTED __attribute__((destructor)) void writeProfile() {
  const char* out = std::getenv("OOMKIT_ORDERFILE_OUT");
  // Not armed: this run never reached the shed (another command, a failed start).
  if (!out || !__atomic_load_n(&g_armed, __ATOMIC_SEQ_CST)) return;
  char path[4096];
  std::snprintf(path, sizeof path, "%s.%d", out, static_cast<int>(::getpid()));
  FILE* file = std::fopen(path, "w");
  if (!file) return;
  const auto base = reinterpret_cast<uintptr_t>(&__executable_start);
  for (size_t slot = 0; slot < kSlots; ++slot) {
    const uintptr_t function = __atomic_load_n(&g_functions[slot], __ATOMIC_SEQ_CST);
    if (function == 0) continue;
    const uint32_t run_entry = __atomic_load_n(&g_first_run_entry[slot], __ATOMIC_SEQ_CST);
    const bool runs = run_entry != 0;
    std::fprintf(file, "%s %u %016lx\n", runs ? "run" : "start",
                 runs ? run_entry - 1 : __atomic_load_n(&g_first_entry[slot], __ATOMIC_SEQ_CST),
                 static_cast<unsigned long>(function - base));
  }
  std::fclose(file);
}

}  // namespace

extern "C" NOT_INSTRUMENTED void __cyg_profile_func_enter(void* function, void* /*call_site*/) {
  const auto address = reinterpret_cast<uintptr_t>(function);
  if (address == reinterpret_cast<uintptr_t>(&oomkit::sys::dropCleanFilePages))
    __atomic_store_n(&g_armed, true, __ATOMIC_SEQ_CST);
  record(address);
}

extern "C" NOT_INSTRUMENTED void __cyg_profile_func_exit(void* /*function*/, void* /*call_site*/) {}
