// bench/idle_floor/fat.c — LD_PRELOAD: the process starts with FAT_MIB MiB (default 4) more
// resident anonymous memory, touched page by page, so that a loop's idle cost can be compared
// at two sizes and nothing else different.
#include <stdlib.h>
#include <sys/mman.h>

__attribute__((constructor)) static void grow(void) {
  const char* text = getenv("FAT_MIB");
  const size_t bytes = (size_t)(text ? strtoul(text, NULL, 10) : 4) << 20;
  if (bytes == 0) return;
  char* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return;
  for (size_t i = 0; i < bytes; i += 4096) p[i] = 1;
}
