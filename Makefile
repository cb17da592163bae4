# Thin wrapper over CMake/CTest. The two set-up commands:
#   make run    install what running needs, build quietly, start
#               `ipcbox serve` on demo/ (read-only; uploads go to var/uploads)
#   make test   install every test dependency, build (gcc, -Werror), build
#               with clang + ASan/UBSan + libFuzzer, run every test via ctest
PREFIX ?= /usr/local
JOBS ?= $(shell nproc)
BUILD ?= build
TEST_BUILD ?= build-test
FUZZ_SECONDS ?= 10
FUZZ_LONG_SECONDS ?= 600
# unit tests in build/ need cmocka: built when it is installed (make test
# forces them on, and its deps step installs cmocka first)
TESTS ?= $(shell pkg-config --exists cmocka 2>/dev/null && echo ON || echo OFF)
# where `make run` keeps uploads (ignored by git; demo/ stays untouched),
# and extra flags for its serve (e.g. ARGS='--httpd-listen 127.0.0.1:8081')
RUN_UPLOADS ?= var/uploads
ARGS ?=

.PHONY: all build deps run test check fuzz install clean \
        fuzz-long bench-echo bench-http bench-transfer bench-tftp bench-ipc bench-chat \
        bench-pool bench-coro bench-chat-nodes bench-models

all: build

build:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DIPCBOX_TESTS=$(TESTS) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

# every test dependency (scripts/deps.sh run / bench for the other sets)
deps:
	@scripts/deps.sh test

# Quiet on purpose: at most one line from the deps step (only when it
# installs something), one for the build (the log's tail if it fails), one
# saying what is served, then the services' "listening on" lines. A busy
# port stops only its service; serve names it and the flag that moves it.
run:
	@scripts/deps.sh run
	@mkdir -p $(BUILD); log=$(BUILD)/run-build.log; \
	if cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	     -DIPCBOX_TESTS=$(TESTS) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >$$log 2>&1 && \
	   cmake --build $(BUILD) -j $(JOBS) --target ipcbox >>$$log 2>&1; then \
	  echo "build: $(BUILD)/ipcbox ready (log: $$log)"; \
	else \
	  tail -n 40 $$log; echo "build: failed, full log in $$log" >&2; exit 1; \
	fi
	@mkdir -p $(RUN_UPLOADS)
	@echo "\$$ $(BUILD)/ipcbox serve demo --recv-dir $(RUN_UPLOADS)$(if $(ARGS), $(ARGS))   # demo/ is served read-only; uploads land in $(RUN_UPLOADS)/ (ignored by git); Ctrl-C stops"
	@exec $(BUILD)/ipcbox serve demo --recv-dir $(RUN_UPLOADS) $(ARGS)

# gcc build first (warnings are errors), then the sanitizer build with clang
# that also builds the fuzz harnesses; ctest runs unit, integration, fuzz.
test: TESTS = ON
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

# chatd against redis-server, nats-server and ncat --chat (docs/bench-chat.md)
bench-chat: build
	@scripts/deps.sh bench && bench/chat.sh

# one chat room over 1, 2, 3 chatd nodes and Redis (docs/bench-chat-nodes.md)
bench-chat-nodes: build
	@scripts/deps.sh bench && bench/chat_nodes.sh

# ipcbox pool beside xargs -P2 and GNU parallel -j2 (docs/bench-pool.md)
bench-pool: build
	@scripts/deps.sh bench && bench/pool.sh

# coroutines: switch cost, RSS per parked coroutine, echo coroutine vs epoll
bench-coro: build
	@bench/coro.sh | tee -a docs/bench-coro.md

# every server model under echo and httpd with 0 to 50,000 idle connections:
# the C10K curve (docs/bench-models.md, docs/bench-models.svg), with the
# one-loop models' idle/no-idle ratios measured side by side (PAIRED=0: not)
bench-models: build
	@bench/models.sh
