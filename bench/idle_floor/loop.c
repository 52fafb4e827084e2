// bench/idle_floor/loop.c — the floor of an idle memory monitor: wake once a second and pread
// /proc/meminfo, nothing else. argv[1]: "sleep" (clock_nanosleep, as earlyoom) or "epoll"
// (epoll_pwait2 with a timeout, as oomkit's loop). Run by bench/idle_floor.sh.
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  const int use_epoll = argc > 1 && strcmp(argv[1], "epoll") == 0;
  mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT);
  const int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
  const int ep = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0 || ep < 0) return 1;
  char buf[8192];
  struct epoll_event events[8];
  for (;;) {
    struct timespec second = {1, 0};
    if (use_epoll) {
      epoll_pwait2(ep, events, 8, &second, NULL);
    } else {
      clock_nanosleep(CLOCK_MONOTONIC, 0, &second, NULL);
    }
    if (pread(fd, buf, sizeof buf, 0) < 0) return 1;
  }
}
