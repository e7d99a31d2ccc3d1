# Build rules for the libFuzzer harnesses (fuzz/fuzz_*.c, one per parser;
# docs/fuzzing.md).  Included by the top-level Makefile after
# its own rules.  The daemon's sources are compiled again with clang, the
# sanitizers and libFuzzer's coverage into build/fuzz/obj/ and archived, so a
# harness links only what it calls; every fuzz/fuzz_*.c becomes
# build/fuzz/fuzz_NAME.
#   make fuzz-build          builds them
#   make fuzz                builds them and runs each for FUZZ_SECONDS (30)
#                            on a copy of its seeds (fuzz/run.sh)

FUZZ_CC    ?= clang
FUZZ_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
FUZZ_SECONDS ?= 30

FUZZ_SRCS := $(LIB_SRCS) $(DP_SRCS) $(OBJ_SRCS) $(OBS_SRCS) $(CTL_SRCS)
FUZZ_OBJS := $(FUZZ_SRCS:%.c=$(B)/fuzz/obj/%.o)
FUZZ_BINS := $(patsubst fuzz/%.c,$(B)/fuzz/%,$(wildcard fuzz/fuzz_*.c))

$(B)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link -MMD -MP -c -o $@ $<

$(B)/fuzz/libvwire-fuzz.a: $(FUZZ_OBJS) $(B)/bpf/vw_fast_obj.o $(WEB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(B)/fuzz/fuzz_%: fuzz/fuzz_%.c fuzz/fuzz.h $(B)/fuzz/libvwire-fuzz.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer -MMD -MP -o $@ $< $(B)/fuzz/libvwire-fuzz.a \
		$(LDLIBS_MNL) $(LDLIBS_OBS) $(LDLIBS_BPF) -ldl

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash fuzz/run.sh

.PHONY: fuzz fuzz-build
