# The two first commands of the README: `make run` and `make test`. Both install missing
# Debian packages (scripts/install-deps.sh) and build Release into build/ first.
BUILD ?= build
JOBS ?= $(shell nproc)
PYTHON ?= /usr/bin/python3
EXPERIMENT ?= experiments/quickstart.yaml

.PHONY: all deps build run test sanitize fuzz bench bench-sweep notebooks clean format

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release > /dev/null
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	./$(BUILD)/infersim run $(EXPERIMENT) -o results/quickstart.h5

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer (build-asan/): any
# finding fails it; LeakSanitizer ignores only OpenMPI's own allocations
# (tests/sanitizers/lsan.supp). Sanitizer exit codes (86, 87) differ from infersim's own
# (0-3), so a CLI test expecting status 1 or 2 cannot mistake a finding for it.
# INFERSIM_TEST_SCALE=0.25 runs the heavy statistical tests (M/D/1: 8 M requests each) on a
# quarter of their requests, with bounds widened to match (tests/queueing_test.cc).
SANITIZE_BUILD ?= build-asan
SANITIZE_ENV = ASAN_OPTIONS=detect_leaks=1:exitcode=86:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=87 \
	LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitizers/lsan.supp:print_suppressions=0 \
	INFERSIM_TEST_SCALE=0.25
sanitize: deps
	@cmake -S . -B $(SANITIZE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DINFERSIM_SANITIZE=ON > /dev/null
	@cmake --build $(SANITIZE_BUILD) -j $(JOBS)
	cd $(SANITIZE_BUILD) && $(SANITIZE_ENV) ctest --output-on-failure -j $(JOBS)

# libFuzzer over the experiment loader, --set and sweep expansion (tests/fuzz/README.md):
# built with clang-14 in build-fuzz/ (ASan + UBSan), run for FUZZ_SECONDS from the seeds.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 90
fuzz:
	@bash scripts/install-deps.sh fuzz
	@CC=clang-14 CXX=clang++-14 cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DINFERSIM_FUZZ=ON -DINFERSIM_MPI=OFF -DBUILD_TESTING=OFF > /dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS) --target infersim_fuzz
	@mkdir -p $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/findings
	./$(FUZZ_BUILD)/infersim_fuzz $(FUZZ_BUILD)/corpus tests/fuzz/corpus \
	  -dict=tests/fuzz/experiment.dict -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	  -rss_limit_mb=2048 -max_len=4096 -artifact_prefix=$(FUZZ_BUILD)/findings/ -print_final_stats=1

bench: build
	@bash scripts/bench.sh $(BUILD)

# The notebooks: run the experiments they read (--resume: nothing if results/policy_sweep.h5
# and results/azure_cluster.h5 are up to date), execute them headless into results/notebooks/
# and write notebooks/figures/*.png.
notebooks: build
	./$(BUILD)/infersim run experiments/policy_sweep.yaml -o results/policy_sweep.h5 --resume -q
	./$(BUILD)/infersim run experiments/azure_cluster.yaml -o results/azure_cluster.h5 --resume -q
	bash notebooks/execute.sh results/policy_sweep.h5 notebooks/figures results/notebooks \
	  notebooks/policy_comparison.ipynb notebooks/sweep_explorer.ipynb
	bash notebooks/execute.sh results/azure_cluster.h5 notebooks/figures results/notebooks \
	  notebooks/cluster.ipynb

# -j 2 vs -j 1 wall time of a 200-point sweep of 100k-request runs.
bench-sweep: build
	@bash scripts/bench_sweep.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h' '*.cu')

clean:
	rm -rf $(BUILD) $(SANITIZE_BUILD) $(FUZZ_BUILD)
