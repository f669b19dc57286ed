# Thin wrapper over Meson.  `make` builds build/ironbootd and build/ironboot.
BUILD ?= build
ASAN_BUILD ?= build-asan
CONFIG ?= examples/default.yaml

.PHONY: all deps test-deps run test unit integration clean demo

all: $(BUILD)/build.ninja
	ninja -C $(BUILD)

$(BUILD)/build.ninja:
	meson setup $(BUILD)

deps:
	scripts/deps.sh build

test-deps:
	scripts/deps.sh test

# The main job on the embedded default: SQLite under a state dir, the
# default config, Debian's iPXE binaries.
run: deps all
	$(BUILD)/ironbootd --config $(CONFIG)

# The whole suite: unit tests and fuzz corpora (plain and under ASan+UBSan),
# then the protocol tests in network namespaces against real clients.
test: test-deps
	scripts/test.sh

# A VM network-boots Linux from ironbootd in a namespace lab; prints its
# serial console and its timeline, then tears everything down.
demo: deps all
	scripts/demo.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
