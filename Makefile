# Thin wrapper over Meson.  `make` builds build/ironbootd and build/ironboot.
BUILD ?= build
ASAN_BUILD ?= build-asan
CONFIG ?= examples/default.yaml
# make install: under $(DESTDIR)$(PREFIX), from its own build dir
PREFIX ?= /usr/local
DESTDIR ?=
INSTALL_BUILD ?= build-install

.PHONY: all deps test-deps run test unit integration clean demo install deb

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

# One fresh VM's whole lifecycle (docs/LIFECYCLE.md) against
# examples/lifecycle.yaml: discovered, accepted and wiped, allocated and
# installed, booted from its disk, released and wiped, ready.  The VM is
# powered only through its BMC, which ironbootd drives: BMC=ipmi (default,
# OpenIPMI's ipmi_sim) or BMC=redfish (tests/lib/redfish_emu.py); BMC=none:
# the demo powers it on itself.  Prints the machine's timeline.
BMC ?= ipmi
.PHONY: demo-lifecycle
demo-lifecycle: deps all
	IB_BUILD=$(abspath $(BUILD)) /usr/bin/python3 scripts/demo_lifecycle.py --bmc $(BMC)

# The programs, man pages, ironbootd.service and its sysusers.d user, and
# /etc/ironboot/ironboot.yaml (only where none exists yet).  The config
# always goes to /etc: the programs read /etc/ironboot/ironboot.yaml.
install: deps
	if [ -f $(INSTALL_BUILD)/build.ninja ]; then \
		meson configure $(INSTALL_BUILD) -Dprefix=$(PREFIX) -Dsysconfdir=/etc; \
	else \
		meson setup $(INSTALL_BUILD) --prefix=$(PREFIX) --sysconfdir=/etc -Dtests=false; \
	fi
	meson install -C $(INSTALL_BUILD) $(if $(DESTDIR),--destdir "$(abspath $(DESTDIR))")

# The Debian package (debian/), built in a copy of the tree: build-deb/*.deb
deb: test-deps
	scripts/mkdeb.sh build-deb

# The agent image (docs/AGENT.md): build/agent/vmlinuz and initrd.img, the
# Debian kernel and an initramfs whose /init is the static ironboot-agent.
.PHONY: agent-image
agent-image: all
	scripts/agent-image.sh --agent $(BUILD)/ironboot-agent --out $(BUILD)/agent

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(INSTALL_BUILD) build-deb
