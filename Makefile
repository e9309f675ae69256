# yarasnoop: make | make test | make bench | make V=1 | make SANITIZE=1
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
OUTPUT  := $(OUTPUT)/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif

PKGS    := yara uuid libbpf
VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
ARCH    := $(shell uname -m | sed 's/x86_64/x86/; s/aarch64/arm64/')
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
	      -Iinclude -I$(OUTPUT)
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter \
	   -D_GNU_SOURCE -Iinclude -Iuser -I$(OUTPUT) $(SANFLAGS) \
	   $(shell pkg-config --cflags $(PKGS))
LDFLAGS += $(SANFLAGS)
LDLIBS  += $(shell pkg-config --libs $(PKGS))

# user-space modules shared by the tool and its unit tests
CORE    := mem util rules streams scan output stats records idmap
CORE_OBJ := $(patsubst %,$(OUTPUT)/%.o,$(CORE))
APP_OBJ := $(patsubst %,$(OUTPUT)/%.o,replay capture live control main)
SKEL    := $(OUTPUT)/yarasnoop.skel.h

UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRC))

.PHONY: all test unit bench clean install demo
all: $(OUTPUT)/yarasnoop

$(OUTPUT) $(OUTPUT)/tests:
	$(Q)mkdir -p $@

$(OUTPUT)/%.o: user/%.c $(wildcard user/*.h include/*.h) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# BPF: vmlinux.h from the running kernel's BTF, the object, its skeleton
$(OUTPUT)/vmlinux.h: | $(OUTPUT)
	$(call msg,GEN,$@)
	$(Q)test -r $(VMLINUX_BTF) || { echo "$(VMLINUX_BTF) is missing: the kernel needs CONFIG_DEBUG_INFO_BTF=y" >&2; exit 1; }
	$(Q)$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(OUTPUT)/%.bpf.o: bpf/%.bpf.c include/yarasnoop.h $(OUTPUT)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@.tmp && mv $@.tmp $@

$(OUTPUT)/capture.o $(OUTPUT)/live.o: $(SKEL)

$(OUTPUT)/yarasnoop: $(CORE_OBJ) $(APP_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(CORE_OBJ) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(CORE_OBJ) $(LDLIBS) -lcmocka -o $@

unit: $(UNIT_BIN)

test: $(OUTPUT)/yarasnoop $(UNIT_BIN)
	$(Q)OUTPUT=$(OUTPUT) tests/run.sh

bench: $(OUTPUT)/yarasnoop
	$(Q)OUTPUT=$(OUTPUT) scripts/bench.sh

install: $(OUTPUT)/yarasnoop
	install -D -m 0755 $(OUTPUT)/yarasnoop $(DESTDIR)$(PREFIX)/bin/yarasnoop
	install -d $(DESTDIR)$(PREFIX)/share/yarasnoop/rules
	install -m 0644 rules/*.yar $(DESTDIR)$(PREFIX)/share/yarasnoop/rules/

clean:
	rm -rf build

.PHONY: demo
demo: $(OUTPUT)/yarasnoop
	$(Q)$(OUTPUT)/yarasnoop replay -i tests/data/test_input1.log tests/data/test_input2.log tests/data/demo_session.log

# keep the BPF object and vmlinux.h between runs
.SECONDARY:
