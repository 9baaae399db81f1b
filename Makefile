# frugal: the two commands a new user needs.
#   make demo    install missing packages, build, run a real job on this machine
#   make check   install missing packages, build, run every test (plus ASan/UBSan)
#   make dist    static release binaries dist/frugal-linux-{x86_64,aarch64} (docs/DIST.md)
PREFIX ?= /usr/local
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FRUGAL_HOME_DEMO ?= $(CURDIR)/$(BUILD)/demo-home

.PHONY: all deps deps-dist build dist demo check test asan install bench fuzz clean

all: build

deps:
	@scripts/install-deps

deps-dist:
	@scripts/install-deps --dist

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j$(JOBS)

demo: build
	@FRUGAL=$(CURDIR)/$(BUILD)/frugal FRUGAL_HOME=$(FRUGAL_HOME_DEMO) scripts/demo

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFRUGAL_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j$(JOBS)

# As root, the Slurm tests run against a real cluster started for them.
# The dist binaries are built first, for tests/e2e/test_dist_static.sh.
check: build dist
	@scripts/install-deps --examples || echo "make: python3-torch not installed: the PyTorch example test will be skipped"
	@tests/peers/prism-install || { [ -z "$$CI" ] && echo "make: Prism not installed: the API-spec tests will be skipped"; }
	@tests/peers/aws-install || { [ -z "$$CI" ] && echo "make: s3rver not installed: its S3 tests will be skipped"; }
	@tests/peers/rootfs-install || echo "make: no Debian 11 root: the foreign-machine tests will make it or skip"
	@tests/slurm/with-cluster $(MAKE) --no-print-directory test asan

# Libraries are built once from Debian sources and kept in build-dist/;
# a second run rebuilds only frugal.
dist: deps-dist
	scripts/dist/build

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

bench: build
	scripts/bench $(BUILD)

fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DFRUGAL_FUZZ=ON -DFRUGAL_SANITIZE=ON
	cmake --build build-fuzz -j$(JOBS)
	./build-fuzz/fuzz_task -max_total_time=60 fuzz/corpus/task

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz dist
	@echo "make: build-dist/ (libraries built from Debian sources, the Debian 11 test root) kept; rm -rf build-dist to rebuild them"
