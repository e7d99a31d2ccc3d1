# Build rules for the engine benchmark (bench/engine.c).  Included by the
# top-level Makefile (`include bench/bench.mk`, after its own rules), or
# used on its own:  make -f Makefile -f bench/bench.mk build/bench/engine
# It links the benchmark with the datapath objects, as the unit tests do.

$(B)/bench/engine: bench/engine.c $(DP_OBJS) $(B)/libvwire.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $(filter %.c %.o %.a,$^) $(LDLIBS_MNL)

bench-engine: $(B)/bench/engine

.PHONY: bench-engine

# Software segmentation throughput (bench/gso.c): datapath/gso.c alone.
$(B)/bench/gso: bench/gso.c $(B)/datapath/gso.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $(filter %.c %.o,$^)

bench-gso: $(B)/bench/gso

.PHONY: bench-gso

# Traffic management engine cost and accuracy (bench/shaper.c): datapath/shaper.c alone.
$(B)/bench/shaper: bench/shaper.c $(B)/datapath/shaper.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -o $@ $(filter %.c %.o,$^)

bench-shaper: $(B)/bench/shaper

.PHONY: bench-shaper
