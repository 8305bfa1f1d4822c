# horod build. Objects and generated files go to build/ (build/san for
# SAN=1). Quiet by default; V=1 shows the commands. WERROR=1 (CI) turns
# warnings into errors. Targets: all progs run test test-long check-unit clean
# install deb.

.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
PKGCONF ?= pkg-config
VERSION := 0.1.0

ifeq ($(SAN),1)
B := build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT := -O1
else
B := build
SANFLAGS :=
OPT := -O2
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

WARN := -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes -Wcast-qual \
	-Wsign-compare -Wformat=2 -Wundef -Wpointer-arith -Wvla
ifeq ($(WERROR),1)
WARN += -Werror
endif

URING_CFLAGS := $(shell $(PKGCONF) --cflags liburing 2>/dev/null)
URING_LIBS   := $(shell $(PKGCONF) --libs liburing 2>/dev/null || echo -luring)
# libcap: daemon/sys/sandbox.c (the privilege drop), which wk_uring.o pulls in.
CAP_LIBS     := $(shell $(PKGCONF) --libs libcap 2>/dev/null || echo -lcap)
BPF_CFLAGS   := $(shell $(PKGCONF) --cflags libbpf 2>/dev/null)
BPF_LIBS     := $(shell $(PKGCONF) --libs libbpf 2>/dev/null || echo -lbpf -lelf -lz)
# nettle: proto/crypto.c (AES-SIV, CMAC, digests) and the leap-second
# list's SHA-1 (proto/leapfile.c), so every program that links proto/;
# GnuTLS: the NTS-KE server (daemon) and client (tls/).
NETTLE_LIBS  := $(shell $(PKGCONF) --libs nettle 2>/dev/null || echo -lnettle)
GNUTLS_CFLAGS := $(shell $(PKGCONF) --cflags gnutls 2>/dev/null)
GNUTLS_LIBS  := $(shell $(PKGCONF) --libs gnutls 2>/dev/null || echo -lgnutls)
CHECK_CFLAGS := $(shell $(PKGCONF) --cflags check 2>/dev/null)
CHECK_LIBS   := $(shell $(PKGCONF) --libs check 2>/dev/null)

CFLAGS  ?= $(OPT) -g
ALL_CFLAGS := -std=gnu11 $(CFLAGS) $(WARN) $(SANFLAGS) -D_GNU_SOURCE -DHOROD_VERSION='"$(VERSION)"' \
	-pthread -I. -I$(B)/gen $(URING_CFLAGS) $(BPF_CFLAGS) $(GNUTLS_CFLAGS) -MMD -MP
ALL_LDFLAGS := $(LDFLAGS) $(SANFLAGS) -pthread

# One static library per layer, each built from its folder: proto/ (wire
# formats, pure), clock/ (the clock core and drivers), bpf/ (the XDP
# guard's loader; its BPF programs, bpf/*.bpf.c, are compiled with clang
# into skeletons in $(B)/gen), tls/ (NTS-KE over GnuTLS, for the daemon's
# server and every client), daemon/ (horod but its main). A program
# links only the layers it uses, highest first, and only their system
# libraries: horoctl reads the guard's pinned maps (libbpf) and runs
# NTS-KE (GnuTLS) but needs neither liburing nor libcap; horobench needs
# proto/ and tls/.
BPF_PROGS := $(wildcard bpf/*.bpf.c)
BPF_SKELS := $(BPF_PROGS:bpf/%.bpf.c=$(B)/gen/%.skel.h)
PROTO_SRC := $(wildcard proto/*.c)
CLOCK_SRC := $(wildcard clock/*.c)
GUARD_SRC := $(filter-out %.bpf.c,$(wildcard bpf/*.c))
TLS_SRC   := $(wildcard tls/*.c)
DAEMON_SRC := $(filter-out daemon/main.c,$(wildcard daemon/*.c daemon/*/*.c))
LIB_PROTO  := $(B)/libproto.a
LIB_CLOCK  := $(B)/libclock.a
LIB_GUARD  := $(B)/libguard.a
LIB_TLS    := $(B)/libtls.a
LIB_DAEMON := $(B)/libdaemon.a
# Every layer, highest first (what the test programs link).
LIBS_ALL  := $(LIB_DAEMON) $(LIB_GUARD) $(LIB_TLS) $(LIB_CLOCK) $(LIB_PROTO)
SYSLIBS_ALL = $(URING_LIBS) $(CAP_LIBS) $(if $(BPF_PROGS),$(BPF_LIBS)) $(GNUTLS_LIBS) $(NETTLE_LIBS)
UNIT_SRC  := $(wildcard tests/unit/*.c)
# The unit tests find their data files (tests/data/) wherever they run from.
UNIT_DEFS := -DHOROD_TESTDATA='"$(CURDIR)/tests/data"'
UNIT_OBJ  := $(UNIT_SRC:%.c=$(B)/%.o)
SUITES    := $(patsubst tests/unit/check_%.c,%,$(filter tests/unit/check_%.c,$(UNIT_SRC)))
TOOL_SRC  := $(wildcard tests/tools/*.c)
TOOLS     := $(TOOL_SRC:tests/tools/%.c=$(B)/tools/%)
# The XDP guard's BPF_PROG_TEST_RUN tests (tests/bpf/), when the guard exists.
BPFT_SRC  := $(if $(BPF_PROGS),$(wildcard tests/bpf/*.c))
BPFTEST   := $(if $(BPFT_SRC),$(B)/guard-test)

CTL_SRC   := $(wildcard ctl/*.c)
BENCH_SRC := $(wildcard bench/src/*.c)

PROGS := $(B)/horod $(if $(CTL_SRC),$(B)/horoctl) $(if $(BENCH_SRC),$(B)/horobench)

.PHONY: all progs run test check-unit check-system deps test-deps clean install format format-check deb
all: $(PROGS) $(B)/unit-tests $(TOOLS) $(BPFTEST)

# The programs alone (what `make install` and the Debian package ship).
progs: $(PROGS)

# Packages (scripts/install-deps): deps is what building and running horod
# and horoctl needs; test-deps adds the test tools and has
# scripts/third-party unpack the daemons the tests run (chronyd, ntpsec)
# into its cache. Neither installs, starts or enables a service.
deps:
	$(Q)scripts/install-deps --quiet run

test-deps:
	$(Q)scripts/install-deps --quiet test

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) $(if $(filter tests/unit/%,$<),$(CHECK_CFLAGS) $(UNIT_DEFS)) -c -o $@ $<

# BPF: vmlinux.h from the running kernel's BTF, then clang -target bpf
# (with -g: the skeleton needs BTF), then bpftool's skeleton header.
$(B)/gen/vmlinux.h:
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  GEN     $@")
	$(Q)bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@

$(B)/bpf/%.bpf.o: bpf/%.bpf.c $(B)/gen/vmlinux.h $(wildcard bpf/*.h proto/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  BPF     $<")
	$(Q)clang -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -I. -I$(B)/gen -c -o $@ $<

$(B)/gen/%.skel.h: $(B)/bpf/%.bpf.o
	@$(if $(Q),echo "  SKEL    $@")
	$(Q)bpftool gen skeleton $< > $@

$(GUARD_SRC:%.c=$(B)/%.o): $(BPF_SKELS)

# A layer's library: its folder's objects.
$(LIB_PROTO): $(PROTO_SRC:%.c=$(B)/%.o)
$(LIB_CLOCK): $(CLOCK_SRC:%.c=$(B)/%.o)
$(LIB_GUARD): $(GUARD_SRC:%.c=$(B)/%.o)
$(LIB_TLS): $(TLS_SRC:%.c=$(B)/%.o)
$(LIB_DAEMON): $(DAEMON_SRC:%.c=$(B)/%.o)
$(B)/lib%.a:
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

# Link $@ from its object and library prerequisites (in that order) and
# the system libraries $(1): the one link rule of every program.
define link
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(filter %.o %.a,$^) $(1) -lm
endef

$(B)/horod: $(B)/daemon/main.o $(LIBS_ALL)
	$(call link,$(SYSLIBS_ALL))

$(B)/horoctl: $(CTL_SRC:%.c=$(B)/%.o) $(LIB_GUARD) $(LIB_TLS) $(LIB_PROTO)
	$(call link,$(if $(BPF_PROGS),$(BPF_LIBS)) $(GNUTLS_LIBS) $(NETTLE_LIBS))

$(B)/horobench: $(BENCH_SRC:%.c=$(B)/%.o) $(LIB_TLS) $(LIB_PROTO)
	$(call link,$(GNUTLS_LIBS) $(NETTLE_LIBS))

# The unit-test runner includes the generated list of suites (one per
# tests/unit/check_NAME.c, which defines NAME_suite()).
$(B)/gen/suites.inc: $(filter tests/unit/check_%.c,$(UNIT_SRC)) Makefile
	@mkdir -p $(dir $@)
	$(Q)printf '%s\n' $(foreach s,$(SUITES),'SUITE($(s))') > $@

$(B)/tests/unit/runner.o: $(B)/gen/suites.inc

$(B)/unit-tests: $(UNIT_OBJ) $(LIBS_ALL)
	$(call link,$(CHECK_LIBS) $(SYSLIBS_ALL))

$(B)/tools/%: $(B)/tests/tools/%.o $(LIBS_ALL)
	$(call link,$(SYSLIBS_ALL))

# (with the clock core's fake kernel-like clock, for the core's own snapshots around a leap)
$(B)/guard-test: $(BPFT_SRC:%.c=$(B)/%.o) $(B)/tests/unit/fakeclk.o $(LIBS_ALL)
	$(call link,$(SYSLIBS_ALL))

$(BPFT_SRC:%.c=$(B)/%.o): $(BPF_SKELS)

# The clock simulator (tests/sim/): the clock core and the sim driver in
# simulated time; tests/system/35-clock-sim.sh runs it.
all: $(B)/clocksim
$(B)/clocksim: $(patsubst %.c,$(B)/%.o,$(wildcard tests/sim/*.c)) $(LIBS_ALL)
	$(call link,$(SYSLIBS_ALL))

# The same simulator over a clock core whose bound's terms can be left out one by
# one (-DCLK_MUTANTS, objects in $(B)/mut/): the mutation check,
# tests/system/37-clock-mutants.sh, proves each term makes a scenario fail.
all: $(B)/clocksim-mutants
MUT_OBJ := $(patsubst %.c,$(B)/mut/%.o,$(CLOCK_SRC) $(wildcard tests/sim/*.c))
$(B)/mut/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $< (mutants)")
	$(Q)$(CC) $(ALL_CFLAGS) -DCLK_MUTANTS -c -o $@ $<
$(B)/clocksim-mutants: $(MUT_OBJ) $(LIBS_ALL)
	$(call link,$(SYSLIBS_ALL))

# Every C file must be as clang-format (.clang-format at the root) writes
# it: `make format-check` (CI) lists the ones that are not and fails;
# `make format` rewrites them.
FORMAT_SRC = $(shell git ls-files '*.c' '*.h' 2>/dev/null || find . -path ./build -prune -o \( -name '*.c' -o -name '*.h' \) -print)
format-check:
	$(Q)bad=$$(for f in $(FORMAT_SRC); do clang-format --dry-run -Werror "$$f" >/dev/null 2>&1 || echo "$$f"; done); \
	if [ -n "$$bad" ]; then echo "format-check: not as .clang-format says (make format fixes):"; \
		echo "$$bad" | sed 's/^/  /'; exit 1; fi; \
	echo "format-check: $(words $(FORMAT_SRC)) files as .clang-format says"
format:
	$(Q)clang-format -i $(FORMAT_SRC)

# Start horod in the foreground on the embedded default configuration,
# having built only horod and horoctl, on RUN_PORT: 123 as root, 11123
# otherwise (make run RUN_PORT=N either way). Not root, its control
# socket is in a directory of the user's own, where horoctl looks.
RUN_PORT ?= $(if $(filter 0,$(shell id -u)),123,11123)
RUN_PROGS := $(B)/horod $(if $(CTL_SRC),$(B)/horoctl)
run: deps
	$(Q)$(MAKE) --no-print-directory $(if $(Q),-s) $(RUN_PROGS)
	$(Q)echo "horod: serving on 127.0.0.1 and ::1 port $(RUN_PORT) (embedded configuration; Ctrl-C stops)"; \
	[ "$$(id -u)" = 0 ] || echo "  not root: the control socket is in a directory of yours (logged below), where horoctl looks"; \
	echo "  ask it:  $(B)/horoctl check 127.0.0.1:$(RUN_PORT)"; \
	echo "           python3 tests/tools/ntpcraft.py 127.0.0.1 $(RUN_PORT)"; \
	$(if $(filter 123,$(RUN_PORT)),echo "           ntpdig 127.0.0.1   (package ntpsec-ntpdig: make test installs it)";) \
	echo "  read it: $(B)/horoctl status"; \
	exec $(B)/horod -n -P $(RUN_PORT)

# The whole test suite: unit tests, then system tests; one summary line.
test: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run-tests --build $(B)

# The whole suite with the long settings of the tests that have them: the
# clock simulator over 200 seeds per scenario, its mutation check over 50
# seeds and every scenario, 10000 driftfile kills.
.PHONY: test-long
test-long: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)CLOCKSIM_SEEDS=200 CLOCKMUT_SEEDS=50 CLOCKMUT_FULL=1 DRIFTKILL_ITER=10000 \
		HOROD_TEST_TIMEOUT=900 tests/run-tests --build $(B)

# Unit tests only (CI runs this with SAN=1).
check-unit: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run-tests --build $(B) --unit-only

check-system: test-deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/run-tests --build $(B) --system-only

# The systemd unit goes where Debian puts units, whatever PREFIX is; its
# ExecStart path is rewritten to PREFIX/sbin/horod. The example
# configuration becomes /etc/horod/horod.conf only when there is none
# (an operator's file is never overwritten). /var/lib/horod is the
# driftfile's directory (the unit's only writable place besides /run/horod).
# Monitoring and fleet files go to PREFIX/share/horod (the Grafana
# dashboard, the Prometheus rules, BIRD examples and the health check's
# unit), the health check itself to PREFIX/libexec/horod.
# Only the programs are built for it (progs), not the tests.
UNITDIR ?= /lib/systemd/system
install: progs
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(B)/horod $(DESTDIR)$(PREFIX)/sbin/horod
	$(if $(CTL_SRC),install -m 0755 $(B)/horoctl $(DESTDIR)$(PREFIX)/bin/horoctl)
	$(if $(BENCH_SRC),install -m 0755 $(B)/horobench $(DESTDIR)$(PREFIX)/bin/horobench)
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)/etc/horod $(DESTDIR)$(PREFIX)/share/doc/horod \
		$(DESTDIR)/var/lib/horod \
		$(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man5 \
		$(DESTDIR)$(PREFIX)/share/man/man8
	sed 's|/usr/local/sbin/horod|$(PREFIX)/sbin/horod|g' dist/horod.service > $(B)/horod.service
	install -m 0644 $(B)/horod.service $(DESTDIR)$(UNITDIR)/horod.service
	install -m 0644 man/horod.8 $(DESTDIR)$(PREFIX)/share/man/man8/horod.8
	install -m 0644 man/horod.conf.5 $(DESTDIR)$(PREFIX)/share/man/man5/horod.conf.5
	$(if $(CTL_SRC),install -m 0644 man/horoctl.8 $(DESTDIR)$(PREFIX)/share/man/man8/horoctl.8)
	$(if $(BENCH_SRC),install -m 0644 man/horobench.1 $(DESTDIR)$(PREFIX)/share/man/man1/horobench.1)
	install -m 0644 dist/horod.conf $(DESTDIR)$(PREFIX)/share/doc/horod/horod.conf.example
	install -d $(DESTDIR)$(PREFIX)/libexec/horod $(DESTDIR)$(PREFIX)/share/horod/grafana \
		$(DESTDIR)$(PREFIX)/share/horod/prometheus $(DESTDIR)$(PREFIX)/share/horod/fleet
	install -m 0755 dist/fleet/horod-anycast-check $(DESTDIR)$(PREFIX)/libexec/horod/horod-anycast-check
	install -m 0644 dist/grafana/horod.json $(DESTDIR)$(PREFIX)/share/horod/grafana/horod.json
	install -m 0644 dist/prometheus/horod-rules.yml \
		$(DESTDIR)$(PREFIX)/share/horod/prometheus/horod-rules.yml
	install -m 0644 dist/fleet/bird-replica.conf dist/fleet/bird-router.conf \
		dist/fleet/horod-anycast-check.service $(DESTDIR)$(PREFIX)/share/horod/fleet/
	@if [ -e $(DESTDIR)/etc/horod/horod.conf ]; then \
		echo "install: keeping the existing $(DESTDIR)/etc/horod/horod.conf"; \
	else \
		echo "install -m 0644 dist/horod.conf $(DESTDIR)/etc/horod/horod.conf"; \
		install -m 0644 dist/horod.conf $(DESTDIR)/etc/horod/horod.conf; \
	fi

clean:
	rm -rf build

# The Debian package (debian/, debhelper 13), built by scripts/build-deb
# from a copy of the tree in $(B)/deb/ (nothing is written outside it),
# then checked with lintian (errors and warnings fail the build). The
# .deb and the lintian report land in $(B)/deb/.
deb:
	$(Q)scripts/build-deb $(B)/deb

-include $(shell find $(B) -type f -name '*.d' 2>/dev/null)

# Fuzz targets (tests/fuzz/): `make fuzz FUZZ_SECONDS=N`.
-include tests/fuzz/fuzz.mk
