# msa: the two commands of the README, and the steps under them.
#   make demo   install what is missing, build, run the main job on the CPU
#   make test   install what is missing, build, run every test (lit + unit)
# Each target runs scripts/install-deps.sh first; it returns at once when
# everything is present.

BUILD ?= build
BUILD_TYPE ?= Release
CMAKE_ARGS ?=

.PHONY: all deps configure build test demo clean

all: build

deps:
	@bash scripts/install-deps.sh

configure: deps
	@if [ ! -f $(BUILD)/build.ninja ]; then \
	  cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) \
	    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
	    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit $(CMAKE_ARGS); \
	fi

build: configure
	@cmake --build $(BUILD)

test: build
	@cmake --build $(BUILD) --target check-msa

demo: build
	@bash examples/demo.sh $(BUILD)

clean:
	rm -rf $(BUILD)
