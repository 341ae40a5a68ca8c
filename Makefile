# Makefile - the pure-C core's tests and fuzzers.
#
# Everything here builds from csrc/core/ alone (no Python.h, no
# libpython), which is what proves the core is independent of the binding.
#
#   make ctest          C unit + transcript tests           (CC, default cc)
#   make asan           the same under ASan + UBSan
#   make valgrind       the same under valgrind
#   make fuzz           libFuzzer targets, FUZZ_TIME seconds each (clang)
#   make fuzz-merge     minimise corpus + new inputs into csrc/core/$(CF)/corpus/<target>/
#                       (edge coverage only, -use_counters=0, to keep it small;
#                       hand-made seed-* files are always kept)
#   make fuzz-replay    run the checked-in corpus through the targets (CC)
#   make fuzz-cov       coverage of csrc/core/*.c reached by that corpus (clang)
#   make oracle         csrc/core/tests/build/oracle (used by tests/test_core_c.py)
#   make clean
#
# The extension itself is built by setup.py, not here.

CC        ?= cc
CLANG     ?= clang
CORE_SRC  := $(sort $(wildcard csrc/core/imapc_*.c))
CORE_HDR  := $(wildcard csrc/core/imapc*.h)
CT        := csrc/core/tests
CF        := csrc/core/fuzz
# csrc/cflags.txt: the warning flags setup.py uses too
WARN      := $(shell grep '^-' csrc/cflags.txt) -Werror
CSTD      := -std=c11 -D_DEFAULT_SOURCE
INC       := -Icsrc/core -I$(CT)
CFLAGS_CT ?= -O2 -g
SAN       := -fsanitize=address,undefined -fno-sanitize-recover=undefined \
             -fno-omit-frame-pointer
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

TB        := $(CT)/build
FB        := $(CF)/build
TESTS     := test_rbuf test_resp test_util test_transcripts
SUPPORT   := $(CT)/describe.c $(CT)/event_log.c
HDRS      := $(CORE_HDR) $(CT)/tap.h $(CT)/guard.h $(CT)/describe.h \
             $(CT)/event_log.h $(CT)/cases_gen.h
TRANSCRIPTS := $(sort $(wildcard $(CT)/transcripts/*.txt))

FUZZ_TARGETS := fuzz_framer fuzz_resp
FUZZ_TIME ?= 60
FUZZ_FLAGS ?= -dict=$(CF)/imap.dict -max_len=4096 -malloc_limit_mb=64 -rss_limit_mb=1024 \
              -timeout=10 -print_final_stats=1

.PHONY: ctest asan valgrind fuzz fuzz-merge fuzz-replay fuzz-cov oracle clean \
        ctest-build asan-build valgrind-build

# ---------------------------------------------------------------- ctest
define build_tests
$(1)/%: $(CT)/%.c $(CORE_SRC) $(SUPPORT) $(HDRS) | $(1)/.dir
	$$(CC) $(CSTD) $(WARN) $(INC) $(2) -o $$@ $$< $(CORE_SRC) $(SUPPORT) $(3)
endef

$(TB)/.dir $(TB)/asan/.dir $(TB)/vg/.dir $(FB)/.dir $(FB)/replay/.dir:
	mkdir -p $(dir $@) && touch $@

$(eval $(call build_tests,$(TB),$$(CFLAGS_CT),))
$(eval $(call build_tests,$(TB)/asan,-O1 -g $$(SAN),$$(SAN)))
$(eval $(call build_tests,$(TB)/vg,-O0 -g,))

# $(call run_tests,dir,prefix)
define run_tests
	@set -e; fail=0; \
	for t in test_rbuf test_resp test_util; do \
	  echo "== $$t"; \
	  $(2) $(1)/$$t > $(1)/$$t.tap 2>&1 || fail=1; \
	  grep -E '^(not ok|#)' $(1)/$$t.tap | head -60 || true; \
	done; \
	echo "== test_transcripts"; \
	$(2) $(1)/test_transcripts $(TRANSCRIPTS) > $(1)/test_transcripts.tap 2>&1 || fail=1; \
	grep -E '^(not ok|#)' $(1)/test_transcripts.tap | head -40 || true; \
	cat $(1)/*.tap | awk '/^ok /{p++} /^not ok /{f++} END{printf "TOTAL: %d passed, %d failed\n", p, f}'; \
	exit $$fail
endef

ctest-build: $(addprefix $(TB)/,$(TESTS))
ctest: ctest-build
	$(call run_tests,$(TB),)

asan-build: $(addprefix $(TB)/asan/,$(TESTS))
asan: asan-build
	$(call run_tests,$(TB)/asan,)

valgrind-build: $(addprefix $(TB)/vg/,$(TESTS))
valgrind: valgrind-build
	$(call run_tests,$(TB)/vg,valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=all)

oracle: $(TB)/oracle

# ---------------------------------------------------------------- fuzzing
$(FB)/%: $(CF)/%.c $(CORE_SRC) $(SUPPORT) $(HDRS) | $(FB)/.dir
	$(CLANG) $(CSTD) $(INC) -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=undefined -o $@ $< $(CORE_SRC) $(SUPPORT)

$(FB)/replay/%: $(CF)/%.c $(CF)/replay_main.c $(CORE_SRC) $(SUPPORT) $(HDRS) | $(FB)/replay/.dir
	$(CC) $(CSTD) $(WARN) $(INC) -O1 -g -o $@ $< $(CF)/replay_main.c $(CORE_SRC) $(SUPPORT)

fuzz: $(addprefix $(FB)/,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
	  c=$${t#fuzz_}; mkdir -p $(FB)/new-$$c $(CF)/corpus/$$c; \
	  echo "== $$t for $(FUZZ_TIME)s"; \
	  $(FB)/$$t $(FUZZ_FLAGS) -max_total_time=$(FUZZ_TIME) \
	    -artifact_prefix=$(FB)/ $(FB)/new-$$c $(CF)/corpus/$$c > $(FB)/$$t.log 2>&1 \
	    || { tail -40 $(FB)/$$t.log; exit 1; }; \
	  grep -E '^#[0-9]+[[:space:]]' $(FB)/$$t.log | tail -1; \
	  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added|peak_rss_mb)' $(FB)/$$t.log; \
	done

fuzz-merge: $(addprefix $(FB)/,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
	  c=$${t#fuzz_}; rm -rf $(FB)/merged-$$c; mkdir -p $(FB)/merged-$$c $(FB)/new-$$c; \
	  cp $(CF)/corpus/$$c/seed-* $(FB)/merged-$$c/ 2>/dev/null || true; \
	  $(FB)/$$t -merge=1 -use_counters=0 -max_len=4096 $(FB)/merged-$$c \
	    $(CF)/corpus/$$c $(FB)/new-$$c 2>&1 | tail -2; \
	  rm -rf $(CF)/corpus/$$c; mv $(FB)/merged-$$c $(CF)/corpus/$$c; \
	  echo "$(CF)/corpus/$$c: $$(ls $(CF)/corpus/$$c | wc -l) files"; \
	done

# Line/branch coverage of csrc/core/*.c reached by the checked-in corpus
# (clang source-based coverage over the replay binaries).
LLVM_COV      ?= llvm-cov
LLVM_PROFDATA ?= llvm-profdata
$(FB)/cov/%: $(CF)/%.c $(CF)/replay_main.c $(CORE_SRC) $(SUPPORT) $(HDRS)
	mkdir -p $(dir $@)
	$(CLANG) $(CSTD) $(INC) -O0 -g -fprofile-instr-generate -fcoverage-mapping \
	  -o $@ $< $(CF)/replay_main.c $(CORE_SRC) $(SUPPORT)

fuzz-cov: $(addprefix $(FB)/cov/,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
	  LLVM_PROFILE_FILE=$(FB)/cov/$$t.profraw $(FB)/cov/$$t $(CF)/corpus/$${t#fuzz_} >/dev/null; \
	  $(LLVM_PROFDATA) merge -sparse $(FB)/cov/$$t.profraw -o $(FB)/cov/$$t.profdata; \
	  echo "== $$t: coverage of the core by $(CF)/corpus/$${t#fuzz_}"; \
	  $(LLVM_COV) report $(FB)/cov/$$t -instr-profile=$(FB)/cov/$$t.profdata $(CORE_SRC) \
	    | sed 's|.*csrc/|csrc/|'; \
	done

fuzz-replay: $(addprefix $(FB)/replay/,$(FUZZ_TARGETS))
	@set -e; for t in $(FUZZ_TARGETS); do \
	  $(FB)/replay/$$t $(CF)/corpus/$${t#fuzz_}; \
	done

clean:
	rm -rf $(TB) $(FB)
