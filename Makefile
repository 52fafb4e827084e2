# oomkit — the two commands a newcomer needs: `make run` and `make test`.
# Every target first installs missing Debian packages (as root, with apt-get), then
# configures and builds with CMake.

BUILD_DIR    ?= build
ASAN_DIR     ?= build-asan
TSAN_DIR     ?= build-tsan
JOBS         ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS  ?=
CTEST_FLAGS  ?= --output-on-failure
RUN_ARGS     ?= run

# Packages the build, the tests and the benchmarks need (Debian 12 names); lld orders the
# executable's functions (tools/oomkit.order, docs/daemon.md). earlyoom is only
# measured against in `make bench`: while installing, a temporary policy-rc.d keeps its
# service from starting on the machine.
PACKAGES := cmake make g++ pkg-config libcli11-dev libfmt-dev nlohmann-json3-dev \
            libtomlplusplus-dev libgtest-dev libgmock-dev libbenchmark-dev earlyoom \
            clang libclang-rt-14-dev lld

.PHONY: all deps build run test bench asan tsan format clean

all: build

deps:
	@missing=""; \
	for p in $(PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Installing:$$missing"; \
	    guard=""; \
	    if [ ! -e /usr/sbin/policy-rc.d ]; then \
	      printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && guard=1; \
	    fi; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	    rc=$$?; [ -n "$$guard" ] && rm -f /usr/sbin/policy-rc.d; [ $$rc = 0 ] || exit $$rc; \
	  else \
	    echo "Missing Debian packages:$$missing"; \
	    echo "Install them with: sudo apt-get install$$missing"; exit 1; \
	  fi; \
	fi

$(BUILD_DIR)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j $(JOBS)

# `run` starts the daemon on its embedded default configuration (global scope, earlyoom-like
# watermarks); the event log goes to standard output, human lines to stderr. Ctrl-C stops it.
run: build
	./$(BUILD_DIR)/oomkit $(RUN_ARGS)

test: build
	cd $(BUILD_DIR) && ctest $(CTEST_FLAGS) -j $(JOBS)

bench: build
	./bench/run_benchmarks.sh $(BUILD_DIR)

asan: deps
	cmake -S . -B $(ASAN_DIR) -DOOMKIT_SANITIZE=asan -DCMAKE_BUILD_TYPE=Debug -DOOMKIT_BUILD_BENCH=OFF
	cmake --build $(ASAN_DIR) -j $(JOBS)
	cd $(ASAN_DIR) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest $(CTEST_FLAGS) -j $(JOBS)

tsan: deps
	cmake -S . -B $(TSAN_DIR) -DOOMKIT_SANITIZE=tsan -DCMAKE_BUILD_TYPE=Debug -DOOMKIT_BUILD_BENCH=OFF
	cmake --build $(TSAN_DIR) -j $(JOBS)
	# Live tests measure RSS, which the TSan runtime inflates; the threads are in the unit tests.
	cd $(TSAN_DIR) && ctest $(CTEST_FLAGS) -j $(JOBS) -LE "live|fuzz"

format:
	clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR)
