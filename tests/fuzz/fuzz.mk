# libFuzzer targets (tests/fuzz/), included at the end of the top-level
# Makefile. Every target is built with clang from the sources it needs,
# compiled afresh into $(B)/fuzz/ with ASan and UBSan (not from the
# gcc-built layer libraries):
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_JOBS=2] [FUZZ_TARGETS="fuzz_request ..."]
#       build every target, fuzz each for FUZZ_SECONDS on a copy of its
#       committed corpus (tests/fuzz/corpus/TARGET/ is never written),
#       FUZZ_JOBS at once; one summary line per target; fails on any
#       crash, leak, timeout or broken property, naming the crash file.
#   make fuzz-build    only build them.
#   make fuzz-cov      line coverage of proto/ntp.c (the request path)
#       from fuzz_request's committed corpus, with llvm-cov.

FUZZ_B       := $(B)/fuzz
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 2
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
# Project warnings; -Werror only on the harnesses (clang may warn where gcc does not).
FUZZ_WARN    := $(filter-out -Werror,$(WARN))
FUZZ_CFLAGS  := -std=gnu11 -g -O1 $(FUZZ_WARN) -D_GNU_SOURCE -DHOROD_VERSION='"$(VERSION)"' \
	-pthread -I. $(URING_CFLAGS) $(BPF_CFLAGS) -MMD -MP
FUZZ_LLVM_PROFDATA ?= $(firstword $(wildcard /usr/bin/llvm-profdata-14 \
	/usr/lib/llvm-14/bin/llvm-profdata) llvm-profdata)
FUZZ_LLVM_COV      ?= $(firstword $(wildcard /usr/bin/llvm-cov-14 \
	/usr/lib/llvm-14/bin/llvm-cov) llvm-cov)

# What each target links, besides its own tests/fuzz/NAME.c. The config
# target takes every daemon/config/*.c (the parser, its helpers and the
# directive files), so a new directive file is fuzzed as soon as it
# exists; mode 6 is built once proto/mode6.c exists.
FUZZ_SRC_fuzz_request   := proto/ntp.c proto/md5.c proto/reason.c
FUZZ_SRC_fuzz_config    := $(wildcard daemon/config/*.c) daemon/policy/acl.c proto/appendf.c \
	proto/ctlproto.c proto/utcdate.c clock/leapload.c proto/leapfile.c proto/tzif.c \
	proto/leaptab.c
FUZZ_SRC_fuzz_ctlproto  := proto/ctlproto.c
FUZZ_SRC_fuzz_driftfile := clock/driftfile.c
FUZZ_SRC_fuzz_mode6     := proto/mode6.c proto/appendf.c
FUZZ_SRC_fuzz_check     := proto/ntpcheck.c proto/ntp.c proto/md5.c proto/appendf.c proto/flash.c
FUZZ_SRC_fuzz_nts       := proto/nts.c proto/ntske.c proto/crypto.c proto/ntp.c proto/md5.c \
	proto/reason.c
FUZZ_SRC_fuzz_ntske     := proto/ntske.c proto/symkey.c proto/crypto.c
# The config parser looks accounts up (`user`): a fixed table stands in (fuzz_config.c).
FUZZ_LDFLAGS_fuzz_config := -Wl,--wrap=getpwnam_r

# Longest input per target (bytes): a datagram of up to ~1 KiB (extension
# fields, a MAC), a config of a few KiB, a control message with a
# payload, a driftfile just past the reader's 256-byte limit, a check run
# of 16 replies (1 + 8 + 16 x 53 = 857), an NTS datagram as large as a
# worker's buffer (1 + 2048), NTS-KE messages and keyfile lines of a few KiB.
FUZZ_MAXLEN_fuzz_request   := 1100
FUZZ_MAXLEN_fuzz_config    := 4096
FUZZ_MAXLEN_fuzz_ctlproto  := 2048
FUZZ_MAXLEN_fuzz_driftfile := 512
FUZZ_MAXLEN_fuzz_mode6     := 1100
FUZZ_MAXLEN_fuzz_check     := 1024
FUZZ_MAXLEN_fuzz_nts       := 2049
FUZZ_MAXLEN_fuzz_ntske     := 4096

FUZZ_ALL     := fuzz_request fuzz_config fuzz_ctlproto fuzz_driftfile fuzz_check fuzz_nts \
	fuzz_ntske \
	$(if $(wildcard proto/mode6.c),fuzz_mode6)
FUZZ_TARGETS ?= $(FUZZ_ALL)

.PHONY: fuzz fuzz-build fuzz-cov

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_B)/%)
	$(if $(wildcard proto/mode6.c),,@echo "  fuzz_mode6: not built, proto/mode6.c does not exist yet")

fuzz: fuzz-build
	$(Q)tests/fuzz/run-fuzz --build $(FUZZ_B) --seconds $(FUZZ_SECONDS) --jobs $(FUZZ_JOBS) \
		$(foreach t,$(FUZZ_TARGETS),$(t):$(FUZZ_MAXLEN_$(t)))

# Objects: sanitizers plus libFuzzer's coverage hooks, no libFuzzer main.
$(FUZZ_B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCC  $<")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) $(if $(filter tests/fuzz/%,$<),-Werror) \
		-fsanitize=fuzzer-no-link $(FUZZ_SAN) -c -o $@ $<

define FUZZ_TARGET_RULE
$(FUZZ_B)/$(1): $(FUZZ_B)/obj/tests/fuzz/$(1).o $(FUZZ_SRC_$(1):%.c=$(FUZZ_B)/obj/%.o)
	@$$(if $$(Q),echo "  FUZZLD  $$@")
	$$(Q)$$(FUZZ_CC) -fsanitize=fuzzer $$(FUZZ_SAN) -pthread $$(FUZZ_LDFLAGS_$(1)) -o $$@ $$^ \
		$$(NETTLE_LIBS) -lm
endef
$(foreach t,$(FUZZ_ALL),$(eval $(call FUZZ_TARGET_RULE,$(t))))

# Coverage: fuzz_request and its sources in one clang call with source-based
# coverage (no sanitizers), run once over every committed input.
FUZZ_COV_SRC := tests/fuzz/fuzz_request.c $(FUZZ_SRC_fuzz_request)

$(FUZZ_B)/cov/fuzz_request: $(FUZZ_COV_SRC) $(wildcard tests/fuzz/*.h proto/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZCOV $@")
	$(Q)$(FUZZ_CC) $(filter-out -MMD -MP -O1,$(FUZZ_CFLAGS)) -O0 -fsanitize=fuzzer \
		-fprofile-instr-generate -fcoverage-mapping -o $@ $(FUZZ_COV_SRC) $(NETTLE_LIBS) -lm

fuzz-cov: $(FUZZ_B)/cov/fuzz_request
	$(Q)tests/fuzz/run-fuzz --coverage --build $(FUZZ_B) \
		--profdata $(FUZZ_LLVM_PROFDATA) --llvm-cov $(FUZZ_LLVM_COV)
