# Build rules for the engine benchmark (bench/engine.c).  Included by the
# top-level Makefile (`include bench/bench.mk`, after its own rules), or
# used on its own:  make -f Makefile -f bench/bench.mk build/bench/engine
# It links the benchmark with the datapath objects, as the unit tests do.

$(B)/bench/engine: bench/engine.c $(DP_OBJS) $(B)/libvwire.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS_MNL) $(LDLIBS_BPF)

bench-engine: $(B)/bench/engine

.PHONY: bench-engine

# Software segmentation throughput (bench/gso.c): datapath/gso.c and the
# frame parser it uses.
$(B)/bench/gso: bench/gso.c $(B)/datapath/gso.o $(B)/datapath/pktparse.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $(filter %.c %.o,$^)

bench-gso: $(B)/bench/gso

.PHONY: bench-gso

# Admission-control helpers (bench/conntab.c): parser, MSS clamp, RST,
# connection table lookups.
$(B)/bench/conntab: bench/conntab.c $(B)/datapath/conntab.o $(B)/datapath/pktparse.o $(B)/datapath/tcpops.o $(B)/datapath/gso.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $(filter %.c %.o,$^)

bench-conntab: $(B)/bench/conntab

.PHONY: bench-conntab

# Flow classifier ns per packet with 1 and 10,000 flows (bench/flow.c).
$(B)/bench/flow: bench/flow.c $(B)/datapath/flow.o $(B)/datapath/pktparse.o $(B)/libvwire.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $(filter %.c %.o %.a,$^)

bench-flow: $(B)/bench/flow

.PHONY: bench-flow

# Traffic management engine cost and accuracy (bench/shaper.c): the engine
# alone (datapath/shaper.c, datapath/shaper_conf.c).
$(B)/bench/shaper: bench/shaper.c $(B)/datapath/shaper.o $(B)/datapath/shaper_conf.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $(filter %.c %.o,$^)

bench-shaper: $(B)/bench/shaper

.PHONY: bench-shaper

# IPFIX export at high flow rates (bench/ipfix.c): the meter and the
# exporter thread to a UDP socket on 127.0.0.1; links what the unit tests do.
$(B)/bench/ipfix: bench/ipfix.c $(CTL_OBJS) $(OBS_OBJS) $(OBJ_OBJS) $(DP_OBJS) $(B)/libvwire.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS_MNL) $(LDLIBS_OBS) $(LDLIBS_BPF)

bench-ipfix: $(B)/bench/ipfix

.PHONY: bench-ipfix

# bench/compare's far end of a tagged phys uplink (bench/vlantag.bpf.c):
# tags and untags with TC programs, this kernel having neither an 802.1Q
# module nor tc's vlan action.  Same compiler and flags as the fast path's.
$(B)/bench/vlantag.bpf.o: bench/vlantag.bpf.c
	@command -v $(BPF_CLANG) >/dev/null || { echo "$@: needs $(BPF_CLANG) (Debian: clang; make deps installs it)" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -MMD -MP -c -o $@ $<

bench-vlantag: $(B)/bench/vlantag.bpf.o

.PHONY: bench-vlantag

# bench/fastproto's minimal TC program (bench/proto.bpf.c), its loader, and
# the per-run cost of a loaded program (BPF_PROG_TEST_RUN).
$(B)/bench/proto.bpf.o: bench/proto.bpf.c
	@command -v $(BPF_CLANG) >/dev/null || { echo "$@: needs $(BPF_CLANG) (Debian: clang; make deps installs it)" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -MMD -MP -c -o $@ $<

$(B)/bench/proto_load: bench/proto_load.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $< $(LDLIBS_BPF)

$(B)/bench/progcost: bench/progcost.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $< $(LDLIBS_BPF)

bench-fastproto: $(B)/bench/proto.bpf.o $(B)/bench/proto_load $(B)/bench/progcost

.PHONY: bench-fastproto

# Every benchmark program, built by `make check` so that none falls behind
# the code it measures.
BENCH_PROGS := engine gso conntab flow ipfix shaper vlantag.bpf.o proto.bpf.o proto_load progcost
bench-build: $(BENCH_PROGS:%=$(B)/bench/%)

.PHONY: bench-build
