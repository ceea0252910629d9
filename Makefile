# iptrtpproxy — build, test, demo, bench.
#   make          release binaries at stable paths under build/
#   make deps     Debian packages the project needs (idempotent)
#   make test     every test: unit (swift test), end-to-end scripts, a short fuzz run (scripts/test.sh)
#   make demo     the main job, shown end to end
#   make bench    benchmark tables (see BENCHMARKS.md)
#   make fuzz     a longer libFuzzer run of the SDP parser
#   make install  binaries into $(PREFIX)/bin, module into Kamailio's module folder

SWIFT        ?= swift
PREFIX       ?= /usr/local
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

.PHONY: all deps build test unit e2e fuzz-smoke fuzz demo bench install clean

all: build

deps:
	@bash scripts/deps.sh

build:
	$(SWIFT) build -c release --static-swift-stdlib $(SWIFT_FLAGS)
	@mkdir -p $(BUILD)
	@for p in iptrtpproxy iptrtpproxyd iptrtpproxy-bench rtpload; do \
	  if [ -x "$(RELEASE_DIR)/$$p" ]; then install -m 0755 "$(RELEASE_DIR)/$$p" $(BUILD)/$$p; fi; \
	done
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

install: build
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/etc
	install -m 0755 $(BUILD)/iptrtpproxy $(DESTDIR)$(PREFIX)/bin/
	@if [ -x $(BUILD)/iptrtpproxyd ]; then install -m 0755 $(BUILD)/iptrtpproxyd $(DESTDIR)$(PREFIX)/bin/; fi
	install -m 0644 iptrtpproxy.cfg.example $(DESTDIR)$(PREFIX)/etc/
	install -m 0644 examples/kamailio.cfg $(DESTDIR)$(PREFIX)/etc/iptrtpproxy-kamailio.cfg.example
	@if [ -f $(BUILD)/iptrtpproxy.so ]; then \
	  install -d $(DESTDIR)/usr/lib/x86_64-linux-gnu/kamailio/modules; \
	  install -m 0644 $(BUILD)/iptrtpproxy.so $(DESTDIR)/usr/lib/x86_64-linux-gnu/kamailio/modules/; fi

clean:
	rm -rf $(BUILD) .build .build-*
