# cmc — chassis management for SR-IOV blade chassis.
#
#   make            build programs and unit tests into $(O) (default build/)
#   make SAN=1      the same with ASan+UBSan, into build-san/
#   make check      install missing host packages, build, run every test through prove
#   make demo       install, build, boot the emulated chassis and run the demonstration
#   make chassis    boot the emulated chassis and leave you at a shell inside it
#   make bench      benchmark scripts (ratios against a baseline from the same run)
#   make soak       soak runs (t/soak/: 50 kill-and-restart cycles of cmcd in one boot)
#   make install    cmcd, cmcctl, man pages, systemd unit, bash completion, example
#                   configuration (PREFIX=/usr/local DESTDIR= SBINDIR= BINDIR= MANDIR=
#                   SYSTEMDUNITDIR= ...);  make uninstall takes them back
#   RELEASE=1       no test hooks (the crash tests' failpoint): what a package ships
#   V=1             show full commands;  CC=clang  build with clang;  WERROR=1  -Werror

SAN ?= 0
ifeq ($(SAN),1)
O ?= build-san
else
O ?= build
endif
CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS := libpci libnl-3.0 libnl-route-3.0 libconfig jansson libmicrohttpd gnutls libxcrypt libcurl

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-7s %s\n' $(1) $(2)
endif

WARN := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wshadow \
	-Wpointer-arith -Wcast-qual -Wwrite-strings -Wundef -Wvla
CSTD := -std=c11 -D_GNU_SOURCE
OPT ?= -O2 -g
ifeq ($(SAN),1)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LDSAN := -fsanitize=address,undefined
endif
ifeq ($(WERROR),1)
WARN += -Werror
endif

PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null)
# Each layer sees only its own headers and those below it, so a layer boundary crossed
# breaks the build: lib (common: logging, the wire format) <- mgmt-proc, vbridge, drivers
# <- cmc. cmcctl sees lib only (no daemon header); tests and tools see everything.
INCLUDES := -Ilib -Imgmt-proc -Ivbridge -Idrivers -Icmc
$(O)/obj/lib/%.o: INCLUDES := -Ilib
$(O)/obj/mgmt-proc/%.o: INCLUDES := -Ilib -Imgmt-proc
$(O)/obj/vbridge/%.o: INCLUDES := -Ilib -Ivbridge
$(O)/obj/drivers/%.o: INCLUDES := -Ilib -Idrivers
$(O)/obj/cmc/cmcctl.o: INCLUDES := -Ilib
# A test build (the default, and what the chassis image carries) has the crash tests'
# failpoint hook (CMC_FAILPOINT); RELEASE=1 (the Debian package) has none.
RELEASE ?= 0
ifneq ($(RELEASE),1)
TESTDEFS := -DCMC_TEST_BUILD
endif
ALL_CFLAGS = $(CSTD) $(OPT) $(WARN) $(INCLUDES) $(PKG_CFLAGS) $(TESTDEFS) -MMD -MP $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(LDSAN) -pthread $(LDFLAGS)

# One static library per layer; only programs in cmc/ link them all.
COMMON_SRCS := $(wildcard lib/*.c)
MP_SRCS := $(wildcard mgmt-proc/*.c)
VB_SRCS := $(wildcard vbridge/*.c)
DRV_SRCS := $(wildcard drivers/*.c)
CMC_LIB_SRCS := $(filter-out cmc/cmcd.c cmc/cmcctl.c,$(wildcard cmc/*.c))
PROG_NAMES := $(basename $(notdir $(wildcard cmc/cmcd.c cmc/cmcctl.c)))
TOOL_SRCS := $(wildcard t/tools/*.c)
UNIT_SRCS := $(wildcard t/unit/*.c)

objs = $(patsubst %.c,$(O)/obj/%.o,$(1))
LIBS := $(O)/libcmc.a $(O)/libmp.a $(O)/libvb.a $(O)/libdrv.a $(O)/libcommon.a
PROGS := $(addprefix $(O)/,$(PROG_NAMES))
TOOLS := $(patsubst t/tools/%.c,$(O)/tools/%,$(TOOL_SRCS))
UNITS := $(patsubst t/unit/%.c,$(O)/t/%.t,$(UNIT_SRCS))

.PHONY: all unit check check-unit demo chassis bench soak deps image clean fuzz install uninstall package-check check-side
.DELETE_ON_ERROR:
.SECONDARY:

all: $(PROGS) $(TOOLS) $(UNITS)
unit: $(UNITS)

$(O)/obj/%.o: %.c
	$(call msg,CC,$<)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

define lib_rule
$(O)/lib$(1).a: $(call objs,$(2))
	$$(call msg,AR,$$@)
	@mkdir -p $$(dir $$@)
	@rm -f $$@
	$$(Q)ar rcs $$@ $$^
endef
$(eval $(call lib_rule,common,$(COMMON_SRCS)))
$(eval $(call lib_rule,mp,$(MP_SRCS)))
$(eval $(call lib_rule,vb,$(VB_SRCS)))
$(eval $(call lib_rule,drv,$(DRV_SRCS)))
$(eval $(call lib_rule,cmc,$(CMC_LIB_SRCS)))

$(O)/%: $(O)/obj/cmc/%.o $(LIBS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS) $(PKG_LIBS)

$(O)/tools/%: $(O)/obj/t/tools/%.o $(LIBS)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS) $(PKG_LIBS)

$(O)/t/%.t: $(O)/obj/t/unit/%.o $(LIBS)
	$(call msg,LD,$@)
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBS) $(PKG_LIBS)

-include $(shell find $(O)/obj -name '*.d' 2>/dev/null)
# rf-data.c builds these files in (.incbin), which -MMD cannot see.
$(O)/obj/cmc/rf-data.o: $(wildcard cmc/rf-data/*.xml cmc/rf-data/*.json)

# --- test VM payload (t/vm/payload.c): a multiboot ELF for nested QEMU in the chassis ---
# Freestanding 32-bit code, no libc; `make image-vm` puts it at /cmc/vm/payload.elf.
VM_PAYLOAD := $(O)/vm/payload.elf
VM_CC ?= $(CC)
VM_CFLAGS := -m32 -ffreestanding -fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
	-mno-mmx -mno-sse -mno-sse2 -nostdlib -O2 -g -Wall -Wextra
all: $(VM_PAYLOAD)
$(VM_PAYLOAD): t/vm/payload.S t/vm/payload.c t/vm/net.c t/vm/payload.h t/vm/e1000.h t/vm/payload.ld
	$(call msg,VM,$@)
	@mkdir -p $(dir $@)
	$(Q)$(VM_CC) $(VM_CFLAGS) -c -o $(O)/vm/entry.o t/vm/payload.S
	$(Q)$(VM_CC) $(VM_CFLAGS) -std=c11 -c -o $(O)/vm/payload.o t/vm/payload.c
	$(Q)$(VM_CC) $(VM_CFLAGS) -std=c11 -c -o $(O)/vm/net.o t/vm/net.c
	$(Q)ld -m elf_i386 -nostdlib --no-warn-rwx-segments -T t/vm/payload.ld -o $@ $(O)/vm/entry.o $(O)/vm/payload.o $(O)/vm/net.o

# The chassis image with qemu-system-x86_64 in it (build/chassis/initrd-vm.img), for the
# tests that run VMs inside the chassis; the normal image stays without it.
.PHONY: image-vm
image-vm: all
	$(Q)t/chassis/mkimage --with-qemu $(O)

# --- host packages, guest image, tests, demo -------------------------------------
deps:
	$(Q)scripts/setup-host

IMAGE := $(O)/chassis/initrd.img
image: all
	$(Q)t/chassis/mkimage $(O)

check-unit: unit
	$(Q)$(MAKE) --no-print-directory SAN=1 unit

# make check builds what the chassis needs (CHECK_JOBS jobs at a time, unless make was
# given -j itself), then runs two things side by side:
#  - the chassis files, one at a time: each boots QEMU under TCG, whose vCPUs take most of
#    this machine's two cores while the guest is busy (a guest starved of CPU stalls). A
#    chassis file is one that boots the emulated chassis (Chassis->new, or t/chassis/run).
#  - `check-side`, at nice 10 so that the chassis comes first: the sanitizer and clang
#    builds, the package check, the fuzzers' brief runs, then the host-only test files
#    and the unit tests, CHECK_SIDE_JOBS at a time. Its output is kept in
#    $(O)/check-side.log and printed once the chassis files are done.
# The chassis files use about 0.6 of a core on average (the guest waits on its timers and
# on QEMU), so the side's work costs the chassis little and no longer adds to the time.
# Each prove is prove-check's (a file the emulator wedged is run again, at most twice).
CHECK_JOBS ?= 2
CHECK_SIDE_JOBS ?= 1
CHECK_J = $(if $(filter -j% --jobserver%,$(MAKEFLAGS)),,-j$(CHECK_JOBS))
CHASSIS_TESTS = $(sort $(shell grep -lE 'Chassis->new|t/chassis/run' t/*.t))
HOST_TESTS = $(filter-out $(CHASSIS_TESTS),$(sort $(wildcard t/*.t)))
# Unit tests that make network namespaces of fixed names on the host (a test's gcc and
# sanitizer builds would meet there): one after the other, never beside each other.
CHECK_SEQ_RULES = --rules='seq=**/blade*.t'
check: deps
	$(Q)$(MAKE) --no-print-directory $(CHECK_J) all
	$(Q)$(MAKE) --no-print-directory $(CHECK_J) image
	$(Q)$(MAKE) --no-print-directory $(CHECK_J) image-vm
	$(Q)rc=0; rm -f $(O)/check-side.rc $(O)/check-chassis.rc; \
	echo "make check: the builds, host and unit tests run beside the chassis files (nice 10; their output follows, and is in $(O)/check-side.log)"; \
	( nice -n 10 $(MAKE) --no-print-directory -j$(CHECK_SIDE_JOBS) check-side > $(O)/check-side.log 2>&1; \
	  echo $$? > $(O)/check-side.rc ) & side=$$!; \
	{ t/tools/prove-check $(O)/chassis-run/stalled --exec '' --timer -- $(CHASSIS_TESTS); \
	  echo $$? > $(O)/check-chassis.rc; } 2>&1 | tee $(O)/check-chassis.log; \
	[ "$$(cat $(O)/check-chassis.rc)" = 0 ] || rc=1; \
	wait $$side; echo "---- make check-side ($(O)/check-side.log) ----"; cat $(O)/check-side.log; \
	[ "$$(cat $(O)/check-side.rc 2>/dev/null)" = 0 ] || { echo "make check: check-side failed"; rc=1; }; \
	[ "$$(cat $(O)/check-chassis.rc)" = 0 ] || { echo "---- make check: the chassis files' failures again ($(O)/check-chassis.log) ----"; \
		t/tools/check-failures $(O)/check-chassis.log; }; \
	exit $$rc

# The part of `make check` that needs no chassis; runs alone as well.
check-side: all
	$(Q)$(MAKE) --no-print-directory check-unit
	$(Q)$(MAKE) --no-print-directory package-check
	$(Q)$(MAKE) --no-print-directory CC=clang O=build-clang WERROR=1 all
	$(Q)$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=$(CHECK_FUZZ_SECONDS)
	$(Q)t/tools/prove-check $(O)/host-run/stalled --exec '' --timer -j$(CHECK_SIDE_JOBS) \
		$(CHECK_SEQ_RULES) --rules='par=**' -- \
		$(HOST_TESTS) $(UNITS) $(patsubst $(O)/%,build-san/%,$(UNITS))

# A demo the emulator broke (the guest's timer stalled, or QEMU aborted: t/lib/Chassis.pm
# marks it as it marks a test file) is run once more, saying so; any other failure stands.
demo: deps
	$(Q)$(MAKE) --no-print-directory image
	$(Q)$(MAKE) --no-print-directory image-vm
	$(Q)rm -rf $(O)/chassis-run/stalled; CMC_BUILD=$(O) t/chassis/demo || { \
	  [ -e $(O)/chassis-run/stalled/demo ] || exit 1; \
	  echo "make demo: an emulator fault (TCG), not cmc's: $$(cat $(O)/chassis-run/stalled/demo); running the demo again"; \
	  rm -rf $(O)/chassis-run/stalled; CMC_BUILD=$(O) t/chassis/demo; }

chassis: deps
	$(Q)$(MAKE) --no-print-directory image image-vm
	$(Q)CMC_BUILD=$(O) t/chassis/run --interactive $(ARGS)

# libFuzzer targets (clang): fuzz/NAME.c -> $(O)/fuzz/NAME; `make fuzz` runs each briefly.
FUZZ_SRCS := $(wildcard fuzz/*.c)
FUZZERS := $(patsubst fuzz/%.c,build-fuzz/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 20
CHECK_FUZZ_SECONDS ?= 10	# the brief run `make check` does
build-fuzz/%: fuzz/%.c $(COMMON_SRCS) $(MP_SRCS) $(VB_SRCS) $(DRV_SRCS)
	$(call msg,FUZZ,$@)
	@mkdir -p $(dir $@)
	$(Q)clang $(CSTD) -g -O1 -fsanitize=fuzzer,address,undefined $(INCLUDES) $(PKG_CFLAGS) \
		-o $@ $< $(filter-out fuzz/%,$^) $(PKG_LIBS)
# Targets of cmc/ code name their sources here (cmc/ is no library the fuzzers link).
build-fuzz/rf_filter: cmc/rf-evfilter.c
# Each fuzzer's run is a target of its own, so that `make -j2 fuzz` runs two at once
# (each single-threaded, each for FUZZ_SECONDS of wall time: its executions are printed).
FUZZ_RUNS := $(patsubst build-fuzz/%,fuzz-run-%,$(FUZZERS))
.PHONY: $(FUZZ_RUNS)
fuzz: $(FUZZ_RUNS)
$(FUZZ_RUNS): fuzz-run-%: build-fuzz/%
	$(Q)n=$*; f=build-fuzz/$$n; mkdir -p build-fuzz/corpus-$$n; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 build-fuzz/corpus-$$n \
			fuzz/corpus/$$n > build-fuzz/$$n.log 2>&1; rc=$$?; \
		grep -E '^(stat::number_of_executed_units|Done)' build-fuzz/$$n.log | sed "s/^/  $$n: /"; \
		if [ $$rc != 0 ]; then tail -40 build-fuzz/$$n.log; exit 1; fi

# Soaks: long runs in the emulated chassis that `make check` does not do (minutes each).
soak: image
	$(Q)CMC_BUILD=$(O) t/soak/restart.pl $(SOAK_ARGS)

bench: image image-vm
	$(Q)for b in bench/*.sh bench/*.pl; do CMC_BUILD=$(O) $$b || exit 1; done

# --- install ------------------------------------------------------------------------
# GNU-style directories. The configuration lives in /etc whatever PREFIX is: cmcd looks
# for /etc/cmc/cmcd.conf. The unit directory is systemd's own (pkg-config) when systemd
# is there; bash-completion reads $(DATADIR)/bash-completion/completions under /usr and
# /usr/local alike (XDG_DATA_DIRS). /run/cmc is not
# installed: it is a tmpfs, made by the unit (RuntimeDirectory=cmc) or by cmcd itself.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
SBINDIR ?= $(PREFIX)/sbin
DATADIR ?= $(PREFIX)/share
MANDIR ?= $(DATADIR)/man
DOCDIR ?= $(DATADIR)/doc/cmc
SYSCONFDIR ?= /etc
LOCALSTATEDIR ?= /var
SYSTEMDUNITDIR ?= $(or $(shell $(PKG_CONFIG) --variable=systemdsystemunitdir systemd 2>/dev/null),$(PREFIX)/lib/systemd/system)
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
INSTALL ?= install

# The documents the man pages and the README name (doc/*.md), installed beside the README.
USER_DOCS = $(notdir $(wildcard doc/*.md))
# Everything install puts, relative to DESTDIR (uninstall removes exactly these).
INSTALLED_FILES = $(SBINDIR)/cmcd $(BINDIR)/cmcctl $(MANDIR)/man8/cmcd.8 $(MANDIR)/man8/cmcctl.8 \
	$(SYSTEMDUNITDIR)/cmcd.service $(BASHCOMPDIR)/cmcctl $(SYSCONFDIR)/cmc/cmcd.conf.example \
	$(DOCDIR)/README.md $(addprefix $(DOCDIR)/,$(USER_DOCS))
INSTALLED_DIRS = $(SYSCONFDIR)/cmc $(LOCALSTATEDIR)/lib/cmc $(DOCDIR)

install: $(O)/cmcd $(O)/cmcctl
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SYSTEMDUNITDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)$(SYSCONFDIR)/cmc
	$(INSTALL) -m 0755 $(O)/cmcd $(DESTDIR)$(SBINDIR)/cmcd
	$(INSTALL) -m 0755 $(O)/cmcctl $(DESTDIR)$(BINDIR)/cmcctl
	$(INSTALL) -m 0644 doc/cmcd.8 doc/cmcctl.8 $(DESTDIR)$(MANDIR)/man8/
	sed -e 's|/usr/sbin/cmcd|$(SBINDIR)/cmcd|' -e 's|/etc/cmc/|$(SYSCONFDIR)/cmc/|' \
		-e 's|/usr/share/doc/cmc/|$(DOCDIR)/|' conf/cmcd.service > $(DESTDIR)$(SYSTEMDUNITDIR)/cmcd.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/cmcd.service
	$(INSTALL) -m 0644 conf/cmcctl.bash-completion $(DESTDIR)$(BASHCOMPDIR)/cmcctl
	$(INSTALL) -m 0644 README.md $(addprefix doc/,$(USER_DOCS)) $(DESTDIR)$(DOCDIR)/
	# An example beside the configuration; the admin's cmcd.conf is never touched.
	$(INSTALL) -m 0644 conf/example.conf $(DESTDIR)$(SYSCONFDIR)/cmc/cmcd.conf.example
	$(INSTALL) -d -m 0700 $(DESTDIR)$(LOCALSTATEDIR)/lib/cmc

# Leaves the state (/var/lib/cmc/state) and an admin's cmcd.conf where they are: rmdir
# only removes directories that are empty.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED_FILES))
	-rmdir $(addprefix $(DESTDIR),$(INSTALLED_DIRS)) 2>/dev/null

# The Debian package, built and installed in a clean Debian 12 root (scripts/package-check).
package-check: all
	$(Q)CMC_BUILD=$(O) scripts/package-check

clean:
	rm -rf build build-san build-fuzz build-clang
