// support/freezer.h — a v1 freezer cgroup of the test's own: tasks in it stop, and (unlike
// cgroup v2's freezer) a SIGKILL stays pending until they are thawed, so a killed process
// stays "dying" with its memory as long as the test wants
// (Documentation/admin-guide/cgroup-v1/freezer-subsystem.rst). The destructor thaws it,
// waits for it to empty and removes it.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <system_error>
#include <thread>

#include "support/file_io.h"

namespace oomkit::test {

class TestFreezer {
 public:
  static std::string skipReason() {
    return fileExists("/sys/fs/cgroup/freezer/freezer.state") ||
                   fileExists("/sys/fs/cgroup/freezer/cgroup.procs")
               ? ""
               : "no cgroup v1 freezer at /sys/fs/cgroup/freezer";
  }
  TestFreezer() : dir_("/sys/fs/cgroup/freezer/oomkit-test-freezer-" + std::to_string(::getpid())) {
    std::filesystem::create_directory(dir_);
  }
  TestFreezer(const TestFreezer&) = delete;
  TestFreezer& operator=(const TestFreezer&) = delete;
  ~TestFreezer() {
    (void)setState("THAWED");
    for (int i = 0; i < 500 && !empty(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::error_code ignored;
    std::filesystem::remove(dir_, ignored);
  }
  Status add(pid_t pid) { return writeFile(dir_ + "/cgroup.procs", std::to_string(pid)); }
  Status setState(const std::string& state) { return writeFile(dir_ + "/freezer.state", state); }
  bool frozen() const {
    auto state = readFile(dir_ + "/freezer.state");
    return state && state->rfind("FROZEN", 0) == 0;
  }
  bool empty() const {
    auto procs = readFile(dir_ + "/cgroup.procs");
    return !procs || procs->empty();
  }
  // Freezes and waits (up to 5 s) until the kernel says FROZEN.
  bool freeze() {
    if (!setState("FROZEN")) return false;
    for (int i = 0; i < 500 && !frozen(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return frozen();
  }

 private:
  std::string dir_;
};

}  // namespace oomkit::test
