# The two first commands of the README: `make run` and `make test`. Both install missing
# Debian packages (scripts/install-deps.sh) and build Release into build/ first.
BUILD ?= build
JOBS ?= $(shell nproc)
PYTHON ?= /usr/bin/python3
EXPERIMENT ?= experiments/quickstart.yaml

.PHONY: all deps build run test bench bench-sweep notebooks clean format

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

bench: build
	@bash scripts/bench.sh $(BUILD)

# The notebooks: run the sweep they read (--resume: nothing if results/policy_sweep.h5 is up
# to date), execute them headless into results/notebooks/ and write notebooks/figures/*.png.
notebooks: build
	./$(BUILD)/infersim run experiments/policy_sweep.yaml -o results/policy_sweep.h5 --resume -q
	bash notebooks/execute.sh results/policy_sweep.h5 notebooks/figures results/notebooks

# -j 2 vs -j 1 wall time of a 200-point sweep of 100k-request runs.
bench-sweep: build
	@bash scripts/bench_sweep.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.cc' '*.h' '*.cu')

clean:
	rm -rf $(BUILD)
