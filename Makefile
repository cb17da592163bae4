# Thin wrapper over CMake/CTest. The two set-up commands:
#   make run    install deps, build, start `ipcbox serve` on demo/
#   make test   install deps, build (gcc, -Werror), build with clang +
#               ASan/UBSan + libFuzzer, run every test through ctest
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)
BUILD ?= build
TEST_BUILD ?= build-test
FUZZ_SECONDS ?= 10
FUZZ_LONG_SECONDS ?= 600

.PHONY: all build deps run test check fuzz install clean \
        fuzz-long bench-echo bench-http bench-transfer bench-tftp bench-ipc

all: build

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/deps.sh

run: deps build
	$(BUILD)/ipcbox serve demo

# gcc build first (warnings are errors), then the sanitizer build with clang
# that also builds the fuzz harnesses; ctest runs unit, integration, fuzz.
test: deps build
	@CC=clang cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug \
	  -DIPCBOX_SANITIZE=ON -DIPCBOX_FUZZ=ON \
	  -DIPCBOX_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS)

# unit + integration only, against the sanitizer build (no deps step)
check:
	@cmake --build $(TEST_BUILD) -j $(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -j $(JOBS) -LE fuzz

fuzz:
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug \
	  -DIPCBOX_SANITIZE=ON -DIPCBOX_FUZZ=ON -DIPCBOX_TESTS=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@echo "harnesses in build-fuzz/: run one with build-fuzz/fuzz_NAME fuzz/corpus/fuzz_NAME"

# every harness for FUZZ_LONG_SECONDS each (default 10 min; not in CI), one
# libFuzzer job per CPU; new inputs grow build-fuzz/corpus/NAME, crashes
# land in build-fuzz/crash/ and stop the target
fuzz-long: fuzz
	@scripts/fuzz-long.sh build-fuzz $(FUZZ_LONG_SECONDS) $(JOBS)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(TEST_BUILD) build-fuzz build-bench

bench-http: build
	@scripts/deps.sh bench && bench/http.sh
bench-transfer: build
	@scripts/deps.sh bench && bench/transfer.sh
bench-tftp: build
	@scripts/deps.sh bench && bench/tftp.sh
bench-ipc: build
	@scripts/deps.sh bench && bench/ipc.sh
bench-echo: build
	@bench/echo.sh
