# vwire: one non-recursive Makefile for the library, the daemon, the CLIs and
# the tests.  `make` builds everything; `make check` installs what is
# missing, builds, and runs every test; `make demo` runs the network-in-a-box
# demo.  Objects go to build/ (and build/asan/ for the sanitizer build).

CC      ?= gcc
PKGS    := libmnl libmicrohttpd libpcap sqlite3 libnftables
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I. -pthread
CFLAGS  += $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS_MNL := $(shell pkg-config --libs libmnl libnftables 2>/dev/null)
LDLIBS_OBS := $(shell pkg-config --libs libmicrohttpd libpcap sqlite3 2>/dev/null)
LDLIBS_PCAP := $(shell pkg-config --libs libpcap 2>/dev/null)
LDLIBS_CMOCKA := $(shell pkg-config --libs cmocka 2>/dev/null)
LDLIBS_BPF := $(shell pkg-config --libs libbpf 2>/dev/null)
ASAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

B := build

LIB_SRCS := $(wildcard lib/*.c)
DP_SRCS  := $(wildcard datapath/*.c)
OBJ_SRCS := $(wildcard objects/*.c)
OBS_SRCS := $(wildcard observability/*.c)
CTL_SRCS := $(filter-out control/vwired.c,$(wildcard control/*.c))
CLI_COMMON := cli/output.c

LIB_OBJS := $(LIB_SRCS:%.c=$(B)/%.o)
# the fast path's BPF object, built into the daemon as a byte array
DP_OBJS  := $(DP_SRCS:%.c=$(B)/%.o) $(B)/bpf/vw_fast_obj.o
OBJ_OBJS := $(OBJ_SRCS:%.c=$(B)/%.o)
CTL_OBJS := $(CTL_SRCS:%.c=$(B)/%.o)
# the web console's files, built into the daemon as C arrays
WEB_FILES := $(wildcard observability/web/*.html observability/web/*.css observability/web/*.js observability/web/*.svg)
WEB_OBJ  := $(B)/observability/web_assets.o
OBS_OBJS := $(OBS_SRCS:%.c=$(B)/%.o) $(WEB_OBJ)

PROGS := $(B)/vwired $(B)/vwadm $(B)/vwstat $(B)/vwsnoop
UNIT_TESTS := $(patsubst tests/unit/%.c,%,$(wildcard tests/unit/test_*.c))

# The kernel fast path's eBPF programs (datapath/bpf/*.bpf.c, one object
# each): clang -target bpf, against libbpf's headers and the kernel's UAPI
# headers (asm/ lives under the host's multiarch directory on Debian).
BPF_CLANG ?= clang
BPF_SRCS := $(wildcard datapath/bpf/*.bpf.c)
BPF_OBJS := $(BPF_SRCS:datapath/bpf/%.c=$(B)/bpf/%.o)
BPF_CFLAGS := -target bpf -O2 -g -Wall -Werror -I. -idirafter /usr/include/$(shell $(CC) -dumpmachine 2>/dev/null)

# TC programs the system tests load with tc (tests/system/*.bpf.c)
TEST_BPF_OBJS := $(patsubst tests/system/%.bpf.c,$(B)/tests/%.bpf.o,$(wildcard tests/system/*.bpf.c))

all: $(PROGS) $(BPF_OBJS) $(UNIT_TESTS:%=$(B)/tests/%) $(TEST_BPF_OBJS)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(B)/tests/%.bpf.o: tests/system/%.bpf.c
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -MMD -MP -c -o $@ $<

# The rule for the fast path's objects (BPF_OBJS, defined above)
$(B)/bpf/%.bpf.o: datapath/bpf/%.bpf.c
	@command -v $(BPF_CLANG) >/dev/null || { echo "$@: needs $(BPF_CLANG) (Debian: clang; make deps installs it)" >&2; exit 1; }
	@echo '#include <bpf/bpf_helpers.h>' | $(BPF_CLANG) $(BPF_CFLAGS) -E -o /dev/null - 2>/dev/null || { echo "$@: needs libbpf's headers <bpf/bpf_helpers.h> (Debian: libbpf-dev; make deps installs it)" >&2; exit 1; }
	@mkdir -p $(dir $@)
	$(BPF_CLANG) $(BPF_CFLAGS) -MMD -MP -c -o $@ $<

# The BPF object as C bytes (od, as xxd -i would), so the daemon carries
# its programs and needs no file at run time
$(B)/bpf/vw_fast_obj.c: $(B)/bpf/vw_fast.bpf.o
	{ echo '/* generated from $< by the Makefile */'; \
	  echo 'const unsigned char vw_fast_obj[] = {'; \
	  od -An -v -tx1 $< | sed 's/ \([0-9a-f][0-9a-f]\)/0x\1,/g'; \
	  echo '};'; \
	  echo 'const unsigned long vw_fast_obj_len = sizeof(vw_fast_obj);'; } > $@.tmp && mv $@.tmp $@

# The console's files as C bytes (scripts/web-embed.sh): an installed vwired
# needs no data directory
$(B)/observability/web_assets.c: $(WEB_FILES) scripts/web-embed.sh
	@mkdir -p $(dir $@)
	sh scripts/web-embed.sh $@ $(WEB_FILES)

$(B)/libvwire.a: $(LIB_OBJS)
	ar rcs $@ $^

$(B)/vwired: $(B)/control/vwired.o $(CTL_OBJS) $(OBS_OBJS) $(OBJ_OBJS) $(DP_OBJS) $(B)/libvwire.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_MNL) $(LDLIBS_OBS) $(LDLIBS_BPF)

$(B)/vwadm: $(B)/cli/vwadm.o $(B)/cli/cmdout.o $(CLI_COMMON:%.c=$(B)/%.o) $(B)/libvwire.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

# show-history reads the accounting file itself (SQLite)
$(B)/vwstat: $(B)/cli/vwstat.o $(B)/cli/history.o $(CLI_COMMON:%.c=$(B)/%.o) $(B)/libvwire.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs sqlite3 2>/dev/null)

$(B)/vwsnoop: $(B)/cli/vwsnoop.o $(CLI_COMMON:%.c=$(B)/%.o) $(B)/libvwire.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS_PCAP)

# Unit tests link the test file with the library, all of the daemon's code
# but its main() and vwadm's output tables (tests/unit/*.c pick what they
# call).
CLI_TEST_SRCS := cli/cmdout.c
$(B)/tests/%: tests/unit/%.c $(CTL_OBJS) $(OBS_OBJS) $(OBJ_OBJS) $(DP_OBJS) $(CLI_TEST_SRCS:%.c=$(B)/%.o) $(B)/libvwire.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TEST_FLAGS) -o $@ $^ $(LDLIBS_CMOCKA) $(LDLIBS_MNL) $(LDLIBS_OBS) $(LDLIBS_BPF)

# test_fastpath loads the fast path's object with libbpf
FASTPATH_TESTS := $(B)/tests/test_fastpath $(B)/asan/tests/test_fastpath
$(FASTPATH_TESTS): TEST_FLAGS = -DVW_FAST_OBJ='"$(abspath $(B))/bpf/vw_fast.bpf.o"'
$(FASTPATH_TESTS): | $(BPF_OBJS)

# The same unit tests under AddressSanitizer and UBSan.
# Each source is compiled once for all of them.
ASAN_SRCS := $(LIB_SRCS) $(DP_SRCS) $(OBJ_SRCS) $(OBS_SRCS) $(CTL_SRCS) $(CLI_TEST_SRCS)
ASAN_OBJS := $(ASAN_SRCS:%.c=$(B)/asan/%.o) $(B)/bpf/vw_fast_obj.o $(WEB_OBJ)
$(B)/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) -O1 -MMD -MP -c -o $@ $<

$(B)/asan/tests/%: tests/unit/%.c $(ASAN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(ASAN_FLAGS) $(TEST_FLAGS) -O1 -o $@ $^ $(LDLIBS_CMOCKA) $(LDLIBS_MNL) $(LDLIBS_OBS) $(LDLIBS_BPF)

asan: $(UNIT_TESTS:%=$(B)/asan/tests/%)

# the four programs alone (what make install and the Debian package need)
programs: $(PROGS)

deps:
	bash scripts/install-deps.sh

# The QEMU test guest (issue 16): kernel + initramfs in build/guest/, rebuilt
# only when an input changed (tests/guest/README.md)
guest:
	bash tests/guest/mkguest.sh $(B)/guest

check: deps
	$(MAKE) all asan fuzz-build bench-build
	bash tests/run.sh

unit: all asan
	bash tests/run.sh --unit

demo: deps
	$(MAKE) all
	bash scripts/demo.sh

clean:
	rm -rf $(B)

.PHONY: all asan programs deps guest check unit demo clean
-include $(shell find $(B) -name '*.d' 2>/dev/null)
include bench/bench.mk

# ---- state file integrity: the fault-injection shim of tests/system/t_state.sh
$(B)/tests/faultfs.so: tests/fault/faultfs.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -g -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -fPIC -shared -o $@ $< -ldl
all: $(B)/tests/faultfs.so
include fuzz/fuzz.mk

# ---- make install / make uninstall (docs/packaging.md)
# Programs in sbin (vwadm, vwstat and vwsnoop beside vwired, as dladm and
# dlstat are in /usr/sbin), manual pages, the systemd unit (its ExecStart
# made from SBINDIR) and every bash completion file of cli/completion/.  The
# kernel fast path's eBPF object is inside vwired (vw_fast_obj.c above), so
# there is no data file to install.  DESTDIR is prepended to every path.
PREFIX  ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR  ?= $(PREFIX)/share/man
# /lib/systemd/system for PREFIX=/usr (Debian 12's systemdsystemunitdir, the
# one dh_installsystemd reads); PREFIX/lib/systemd/system otherwise (systemd
# also reads /usr/local/lib/systemd/system)
UNITDIR ?= $(if $(filter /usr,$(PREFIX)),/lib/systemd/system,$(PREFIX)/lib/systemd/system)
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL ?= install
MAN_PAGES = $(wildcard man/*.8)
COMPLETIONS = $(shell find cli/completion -maxdepth 1 -type f 2>/dev/null | sort)
INSTALLED = $(PROGS:$(B)/%=$(SBINDIR)/%) $(MAN_PAGES:man/%=$(MANDIR)/man8/%) $(UNITDIR)/vwired.service \
	$(COMPLETIONS:cli/completion/%=$(COMPLETIONDIR)/%)

install: $(PROGS)
	$(INSTALL) -d '$(DESTDIR)$(SBINDIR)' '$(DESTDIR)$(MANDIR)/man8' '$(DESTDIR)$(UNITDIR)'
	$(INSTALL) -m 0755 $(PROGS) '$(DESTDIR)$(SBINDIR)/'
	$(INSTALL) -m 0644 $(MAN_PAGES) '$(DESTDIR)$(MANDIR)/man8/'
	sed 's|@SBINDIR@|$(SBINDIR)|g' scripts/vwired.service.in > '$(DESTDIR)$(UNITDIR)/vwired.service.tmp'
	chmod 0644 '$(DESTDIR)$(UNITDIR)/vwired.service.tmp'
	mv '$(DESTDIR)$(UNITDIR)/vwired.service.tmp' '$(DESTDIR)$(UNITDIR)/vwired.service'
	$(if $(COMPLETIONS),$(INSTALL) -d '$(DESTDIR)$(COMPLETIONDIR)')
	$(if $(COMPLETIONS),$(INSTALL) -m 0644 $(COMPLETIONS) '$(DESTDIR)$(COMPLETIONDIR)/')

# removes the files install made, and no directory (they may hold others')
uninstall:
	rm -f $(foreach f,$(INSTALLED),'$(DESTDIR)$(f)')

# The Debian package (debian/): objects in build/deb (Debian's hardening
# flags, apart from the developer's build/), the .deb, .buildinfo and
# .changes in build/.  Incremental: the objects stay between two make deb;
# `dpkg-buildpackage -b -us -uc` by hand builds from scratch into ../.
DEB_VERSION = $(shell dpkg-parsechangelog -S Version)
DEB_ARCH = $(shell dpkg-architecture -qDEB_HOST_ARCH)
# what a build leaves under debian/ (removed before and after, so that dh
# never skips a step it logged in an earlier build)
DEB_LEFTOVERS = debian/vwire debian/.debhelper debian/tmp debian/files debian/*.substvars \
	debian/debhelper-build-stamp debian/*.debhelper.log debian/*.debhelper
# DEB_OBJDIR=build packages the programs make all built (what
# tests/system/t_install.sh does, to stay within its time: a build from
# scratch takes about a minute on two busy cores), without Debian's
# hardening flags then.
DEB_OBJDIR ?= $(B)/deb
deb:
	@command -v dh >/dev/null || { echo "make deb: needs debhelper (make deps installs it)" >&2; exit 1; }
	rm -rf $(DEB_LEFTOVERS)
	VWIRE_DEB_DIR='$(abspath $(B))' VWIRE_DEB_OBJ='$(DEB_OBJDIR)' dpkg-buildpackage -b -us -uc -jauto --no-pre-clean \
		--buildinfo-option=-u'$(abspath $(B))' --buildinfo-file='$(B)/vwire_$(DEB_VERSION)_$(DEB_ARCH).buildinfo' \
		--changes-option=-u'$(abspath $(B))' --changes-file='$(B)/vwire_$(DEB_VERSION)_$(DEB_ARCH).changes'
	rm -rf $(DEB_LEFTOVERS)
	@echo "make deb: $(B)/vwire_$(DEB_VERSION)_$(DEB_ARCH).deb"

.PHONY: install uninstall deb
