// oomkit_bench_hog MIB — holds MIB mebibytes of touched anonymous memory until a signal ends
// it. run_benchmarks.sh starts it inside its memory cgroup (hard limit 4 GiB) to give the
// victim scans a clear largest process, as in a real low-memory situation.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
  const long mib = argc == 2 ? std::strtol(argv[1], nullptr, 10) : 0;
  if (mib <= 0 || mib > 1024) {
    std::fprintf(stderr, "usage: oomkit_bench_hog MIB (1..1024)\n");
    return 2;
  }
  const size_t size = static_cast<size_t>(mib) << 20;
  void* memory = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    std::perror("oomkit_bench_hog: mmap");
    return 1;
  }
  auto* bytes = static_cast<volatile char*>(memory);
  const long page = ::sysconf(_SC_PAGESIZE);
  for (size_t i = 0; i < size; i += static_cast<size_t>(page))
    bytes[i] = 1;
  for (;;)
    ::pause();
}
