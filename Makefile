# yarasnoop: make | make test | make bench | make fuzz | make V=1 | make SANITIZE=1
OUTPUT  ?= build
CC      ?= cc
CLANG   ?= clang
BPFTOOL ?= bpftool
PREFIX  ?= /usr/local

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

ifeq ($(SANITIZE),1)
override OUTPUT := $(OUTPUT)/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
# the BPF side's sanitizer: every local filled with a pattern, so that a
# read of stack never written (which the verifier allows a privileged
# program) shows here as it would on a kernel whose stack held garbage
BPF_EXTRA += -ftrivial-auto-var-init=pattern
endif

VERSION := 0.4.0
PKGS    := yara uuid libbpf
HOST_VMLINUX_BTF := /sys/kernel/btf/vmlinux
VMLINUX_BTF ?= $(HOST_VMLINUX_BTF)
HOST_ARCH := $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
ARCH    ?= $(HOST_ARCH)
# make ARCH=arm64 on another machine builds the BPF object and its skeleton
# for arm64 in build/arm64/. Every kernel type the object uses is a CO-RE
# relocation, resolved against the target kernel's BTF when it loads, so
# the build host's vmlinux.h serves, with the arm64 register layout from
# bpf/arch.bpf.h; VMLINUX_BTF=FILE takes the target's BTF instead.
ifneq ($(ARCH),$(HOST_ARCH))
override OUTPUT := $(OUTPUT)/$(ARCH)
ifeq ($(VMLINUX_BTF),$(HOST_VMLINUX_BTF))
BPF_FOREIGN := -DYS_FOREIGN_VMLINUX
endif
endif
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Iinclude -I$(OUTPUT) $(BPF_FOREIGN) $(BPF_EXTRA)
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	   -D_GNU_SOURCE -DYS_VERSION='"$(VERSION)"' -Iinclude -Iuser -I$(OUTPUT) $(SANFLAGS) \
	   $(shell pkg-config --cflags $(PKGS))
LDFLAGS += $(SANFLAGS)
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lpthread

# user-space modules shared by the tool and its unit tests
CORE    := mem util kbtf privs buf json queue writer absval classify overlap externals rules streams decide scan output stats records idmap filename routes procs reorder views tombs
CORE_OBJ := $(patsubst %,$(OUTPUT)/%.o,$(CORE))
APP_OBJ := $(patsubst %,$(OUTPUT)/%.o,opts outfile replay replay_jobs capture hooks deferred_close tls cgroup targets drain workers events totals reload report loss live control seccomp main)
SKEL    := $(OUTPUT)/yarasnoop.skel.h

# test helpers: the record dumper (the BPF side seen alone), fd tricks
HELPER_BIN := $(OUTPUT)/helpers/recdump $(OUTPUT)/helpers/fdtricks $(OUTPUT)/helpers/orderw \
	      $(OUTPUT)/helpers/routes $(OUTPUT)/helpers/routes32 $(OUTPUT)/helpers/uring \
	      $(OUTPUT)/helpers/btfcut $(OUTPUT)/helpers/sysinject
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRC))
BENCH_SRC := $(filter-out %.bpf.c,$(wildcard bench/*.c))
BENCH_BIN := $(patsubst bench/%.c,$(OUTPUT)/bench/%,$(BENCH_SRC))

.PHONY: all test unit bench fuzz clean install demo
ifeq ($(ARCH),$(HOST_ARCH))
all: $(OUTPUT)/yarasnoop
else
all: $(OUTPUT)/yarasnoop.bpf.o $(SKEL)
endif

$(OUTPUT) $(OUTPUT)/tests $(OUTPUT)/bench $(OUTPUT)/helpers:
	$(Q)mkdir -p $@

$(OUTPUT)/%.o: user/%.c $(wildcard user/*.h include/*.h) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# BPF: vmlinux.h from the running kernel's BTF, the object, its skeleton
$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)test -r $(VMLINUX_BTF) || { echo "$(VMLINUX_BTF) is missing: the kernel needs CONFIG_DEBUG_INFO_BTF=y" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.bpf.h) include/yarasnoop.h $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

# everything that includes capture.h sees the skeleton's types
$(patsubst %,$(OUTPUT)/%.o,capture opts targets drain workers events reload report loss live replay control main tls): $(SKEL)
$(OUTPUT)/tls.o: $(OUTPUT)/tls.skel.h

$(OUTPUT)/yarasnoop: $(CORE_OBJ) $(APP_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(CORE_OBJ) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(CORE_OBJ) $(LDLIBS) -lcmocka -o $@

# the route loop measures the TLS uprobes on a real libssl
$(OUTPUT)/bench/route_loop: bench/route_loop.c | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -lssl -lcrypto -o $@

# benchmark drivers link the core modules, as the unit tests do
$(OUTPUT)/bench/%: bench/%.c $(CORE_OBJ) | $(OUTPUT)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(CORE_OBJ) $(LDLIBS) -o $@

$(OUTPUT)/helpers/recdump: tests/helpers/recdump.c $(OUTPUT)/capture.o $(OUTPUT)/hooks.o $(OUTPUT)/kbtf.o $(OUTPUT)/deferred_close.o \
			   $(OUTPUT)/records.o $(OUTPUT)/util.o | $(OUTPUT)/helpers
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# the skeletons embed the objects it loads: a change to them rebuilds it
$(OUTPUT)/helpers/btfcut: tests/helpers/btfcut.c $(OUTPUT)/hooks.o $(OUTPUT)/kbtf.o $(OUTPUT)/util.o \
			  $(SKEL) $(OUTPUT)/tls.skel.h | $(OUTPUT)/helpers
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.c %.o,$^) $(LDLIBS) -o $@

$(OUTPUT)/helpers/fdtricks: tests/helpers/fdtricks.c | $(OUTPUT)/helpers
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -o $@

# system calls made from inside a running process (the seccomp test)
$(OUTPUT)/helpers/sysinject: tests/helpers/sysinject.c | $(OUTPUT)/helpers
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -o $@

# the route matrix (tests/helpers/routes.c) and its 32-bit part, assembled
# and linked without a multilib toolchain
$(OUTPUT)/helpers/routes: tests/helpers/routes.c | $(OUTPUT)/helpers
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -o $@

# io_uring requests through Debian's liburing
$(OUTPUT)/helpers/uring: tests/helpers/uring.c | $(OUTPUT)/helpers
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -luring -o $@

$(OUTPUT)/helpers/routes32: tests/helpers/routes32.S | $(OUTPUT)/helpers
	$(call msg,AS32,$@)
	$(Q)as --32 $< -o $@.o && ld -m elf_i386 -static $@.o -o $@ && rm -f $@.o

# the hooks benchmark's no-op programs, and their loader
$(OUTPUT)/bench/%.bpf.o: bench/%.bpf.c $(OUTPUT)/vmlinux.h | $(OUTPUT)/bench
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(OUTPUT)/bench/hook_floor: $(OUTPUT)/bench/hook_floor.skel.h
$(OUTPUT)/bench/hook_floor: CFLAGS += -I$(OUTPUT)/bench

$(OUTPUT)/helpers/orderw: tests/helpers/orderw.c | $(OUTPUT)/helpers
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -lpthread -o $@

unit: $(UNIT_BIN)

# The tool again under ThreadSanitizer, for the replay --jobs suite (which
# skips those checks without it); not with SANITIZE=1, which it cannot mix
# with. make tsan builds it alone.
TSAN_BIN := $(if $(filter 1,$(SANITIZE)),,$(OUTPUT)/tsan/yarasnoop)
.PHONY: tsan
tsan: $(OUTPUT)/tsan/yarasnoop
$(OUTPUT)/tsan/yarasnoop: $(wildcard user/*.c user/*.h include/*.h bpf/*.c bpf/*.h)
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(OUTPUT)/tsan \
		SANFLAGS="-fsanitize=thread -fno-omit-frame-pointer" $@

test: $(OUTPUT)/yarasnoop $(UNIT_BIN) $(HELPER_BIN) $(TSAN_BIN)
	$(Q)OUTPUT=$(OUTPUT) tests/run.sh

bench: $(OUTPUT)/yarasnoop $(BENCH_BIN) $(OUTPUT)/helpers/recdump $(OUTPUT)/helpers/uring
	$(Q)OUTPUT=$(OUTPUT) scripts/bench.sh

# libFuzzer harnesses (tests/fuzz/fuzz_*.c) over the core modules, built
# with clang whatever CC is, then run FUZZ_SECONDS each on copies of their
# seed corpora; fails if any harness crashed
FUZZ_SECONDS ?= 60
FUZZ_DIR := $(OUTPUT)/fuzz
FUZZ_SAN := -fno-sanitize-recover=undefined -fno-omit-frame-pointer
# clang's warnings on top of the gcc build's are shown, not fatal; the LRU
# sentinel (a struct with a flexible array, mid-struct) is GNU C on purpose
FUZZ_CFLAGS := -g -O1 -std=gnu11 -Wall -Wextra -Wno-unused-parameter \
	       -Wno-gnu-variable-sized-type-not-at-end \
	       -D_GNU_SOURCE -Iinclude -Iuser $(shell pkg-config --cflags yara uuid)
FUZZ_LDLIBS := $(shell pkg-config --libs yara uuid)
FUZZ_OBJ := $(patsubst %,$(FUZZ_DIR)/%.o,mem util privs buf json queue writer absval classify overlap externals rules streams decide scan output records reorder)
FUZZ_BIN := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(wildcard tests/fuzz/fuzz_*.c))

$(FUZZ_DIR):
	$(Q)mkdir -p $@

$(FUZZ_DIR)/%.o: user/%.c $(wildcard user/*.h include/*.h) | $(FUZZ_DIR)
	$(call msg,CC-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,address,undefined $(FUZZ_SAN) -c $< -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	$(call msg,LD-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined $(FUZZ_SAN) \
		$< $(FUZZ_OBJ) $(FUZZ_LDLIBS) -o $@

# then the random differential fuzzer (random rules and data, replay
# against the yara command) for FUZZ_SECONDS
fuzz: $(FUZZ_BIN) $(OUTPUT)/yarasnoop
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_BIN)
	$(Q)YARASNOOP=$(OUTPUT)/yarasnoop tests/fuzz/diff_fuzz.py --seconds $(FUZZ_SECONDS)

# the binary, the bundled rules, the man page and the systemd unit (which
# names the binary where it is installed)
MANDIR  ?= $(PREFIX)/share/man
UNITDIR ?= $(PREFIX)/lib/systemd/system
install: $(OUTPUT)/yarasnoop
	install -D -m 0755 $(OUTPUT)/yarasnoop $(DESTDIR)$(PREFIX)/bin/yarasnoop
	install -d $(DESTDIR)$(PREFIX)/share/yarasnoop/rules
	install -m 0644 rules/*.yar $(DESTDIR)$(PREFIX)/share/yarasnoop/rules/
	install -D -m 0644 man/yarasnoop.8 $(DESTDIR)$(MANDIR)/man8/yarasnoop.8
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|@BINDIR@|$(PREFIX)/bin|g' systemd/yarasnoop.service.in >$(DESTDIR)$(UNITDIR)/yarasnoop.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/yarasnoop.service

clean:
	rm -rf build

.PHONY: demo
demo: $(OUTPUT)/yarasnoop
	$(Q)OUTPUT=$(OUTPUT) scripts/demo.sh

# keep the BPF object and vmlinux.h between runs
.SECONDARY:

# yarasnoop under churn and floods for SOAK_SECONDS (as root)
.PHONY: soak
soak: $(OUTPUT)/yarasnoop
	$(Q)OUTPUT=$(OUTPUT) scripts/soak.sh

# The kernel matrix (README.md, "Kernels"): the smoke suite, or every suite,
# under a Debian kernel booted in qemu. KERNEL=6.1, 6.12, a linux-image-...
# package, or host (the running kernel, no VM). scripts/vmtest.sh has the
# knobs (VM_CPUS, VM_MEM, VM_ACCEL, VM_CACHE).
KERNEL ?= 6.1
# the smoke set: what depends on the kernel, about 5 minutes under TCG
VMTEST_SUITES ?= tests/vm/smoke.sh tests/integration/test_streams.sh
VMTEST_DEPS = $(if $(filter host,$(KERNEL)),,scripts/install-deps.sh vm &&)
# the whole run's limit, boot included (.ci/run sets less)
VMTEST_LIMIT ?= 1800
.PHONY: vmtest vmtest-full
vmtest: $(OUTPUT)/yarasnoop $(HELPER_BIN)
	$(Q)$(VMTEST_DEPS) OUTPUT=$(OUTPUT) scripts/vmtest.sh -k $(KERNEL) -t $(VMTEST_LIMIT) -- tests/run.sh $(VMTEST_SUITES)

vmtest-full: $(OUTPUT)/yarasnoop $(UNIT_BIN) $(HELPER_BIN)
	$(Q)$(VMTEST_DEPS) OUTPUT=$(OUTPUT) scripts/vmtest.sh -k $(KERNEL) -t 10800 -- tests/run.sh
