# iptrtpproxy — build, test, demo, bench.
#   make          release binaries at stable paths under build/
#   make deps     Debian packages the project needs (idempotent)
#   make test     every test: unit (swift test), end-to-end scripts, a short fuzz run (scripts/test.sh)
#   make demo     the main job, shown end to end
#   make bench    benchmark tables (see BENCHMARKS.md)
#   make fuzz     a longer libFuzzer run of the SDP parser
#   make deb      Debian packages into build/ (scripts/build-deb.sh): apt install ./build/*.deb
#   make install  without packages: binaries under $(PREFIX), module into Kamailio's module folder,
#                 /etc/iptrtpproxy.cfg (when absent)

SWIFT        ?= swift
PREFIX       ?= /usr/local
# Kamailio's module folder on this machine (Debian's multiarch path).
KAMAILIO_MODULES ?= /usr/lib/$(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)/kamailio/modules
BUILD        := build
RELEASE_DIR   = $(shell $(SWIFT) build -c release --show-bin-path 2>/dev/null)
SWIFT_FLAGS  ?=
FUZZ_SECONDS ?= 20

# `make iptdir=PATH`: build the xt_RTPPROXY binding against the real header of an iptables tree
# with the RTPPROXY extension (PATH/include/linux/netfilter/xt_RTPPROXY.h). Without it the binding
# uses its reconstructed header. The library itself is found at run time in the xtables folders,
# or where `relay xt:/path/libipt_RTPPROXY.so` or $IPT_RTPPROXY_LIB says.
ifdef iptdir
SWIFT_FLAGS += -Xcc -DIPT_XT_RTPPROXY_REAL_HEADER -Xcc -I$(iptdir)/include
endif

.PHONY: all deps build test unit e2e fuzz-smoke fuzz demo bench deb install clean

all: build

deps:
	@bash scripts/deps.sh

build:
	$(SWIFT) build -c release --static-swift-stdlib $(SWIFT_FLAGS)
	@mkdir -p $(BUILD)
	@for p in iptrtpproxy iptrtpproxyd iptrtpproxy-bench rtpload; do \
	  if [ -x "$(RELEASE_DIR)/$$p" ]; then install -m 0755 "$(RELEASE_DIR)/$$p" $(BUILD)/$$p; fi; \
	done
	@bash scripts/build-bpf.sh
	@if [ -f scripts/build-extras.sh ]; then SWIFT_FLAGS='$(SWIFT_FLAGS)' bash scripts/build-extras.sh; fi
	@ls $(BUILD)

test: deps build
	@bash scripts/test.sh

unit:
	$(SWIFT) test $(SWIFT_FLAGS)

e2e:
	@bash scripts/run-e2e.sh

fuzz-smoke:
	@bash scripts/fuzz.sh 5

fuzz:
	@bash scripts/fuzz.sh $(FUZZ_SECONDS)

demo: deps build
	@bash scripts/demo.sh

bench: deps build
	@bash scripts/bench.sh

deb: build
	@bash scripts/build-deb.sh

# The package's layout under $(PREFIX); the one config path, /etc/iptrtpproxy.cfg, is never overwritten.
install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/share/doc/iptrtpproxy/examples
	install -m 0755 $(BUILD)/iptrtpproxy $(BUILD)/rtpload $(DESTDIR)$(PREFIX)/bin/
	install -m 0755 $(BUILD)/iptrtpproxyd $(DESTDIR)$(PREFIX)/sbin/
	install -m 0644 examples/kamailio.cfg iptrtpproxy.cfg.example $(DESTDIR)$(PREFIX)/share/doc/iptrtpproxy/examples/
	@if [ ! -e $(DESTDIR)/etc/iptrtpproxy.cfg ]; then \
	  install -D -m 0644 iptrtpproxy.cfg.example $(DESTDIR)/etc/iptrtpproxy.cfg; \
	  echo "installed /etc/iptrtpproxy.cfg"; fi
	@if [ -f $(BUILD)/iptrtpproxy.so ]; then \
	  install -d $(DESTDIR)$(KAMAILIO_MODULES); \
	  install -m 0644 $(BUILD)/iptrtpproxy.so $(DESTDIR)$(KAMAILIO_MODULES)/; fi

clean:
	rm -rf $(BUILD) .build .build-*
