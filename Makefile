# Builds the three artefacts of the agent: the CO-RE BPF object, the N-API addon and the TypeScript.
# Driven by scripts/setup.sh; `make all` is incremental.
BPF_CLANG ?= clang
BPF_SRC   := $(wildcard bpf/*.bpf.c)
BPF_HDRS  := $(wildcard bpf/*.h)
BPF_OBJ   := $(patsubst bpf/%.bpf.c,build/bpf/%.bpf.o,$(BPF_SRC))
# Small BPF programs of the native addon's own tests (test/kernel/native-*.test.ts).
TEST_BPF_OBJ := $(patsubst test/fixtures/bpf/%.bpf.c,build/test-bpf/%.bpf.o,$(wildcard test/fixtures/bpf/*.bpf.c))
# BPF programs of the benchmarks only (bench/kernel/bpf-cost.ts: the floor of empty programs).
BENCH_BPF_OBJ := $(patsubst bench/kernel/%.bpf.c,build/bench/%.bpf.o,$(wildcard bench/kernel/*.bpf.c))
NATIVE_SRC := $(wildcard agent/native/*.cc agent/native/*.h) binding.gyp
NATIVE    := build/Release/sockeye_native.node
# The kernel matrix test's guest loader: static, so it runs in an initramfs with no shared libraries.
MATRIX_LOADER := build/kernel-matrix/matrix-loader
TS_SRC    := $(shell find agent otel-collector common cli test bench -name '*.ts' 2>/dev/null) tsconfig.json
# npm's own node-gyp (npm 11 does not run install scripts, so we call it directly). `configure build`,
# not `rebuild`: rebuild starts with `clean`, which deletes all of build/ (the BPF objects too).
NODE_GYP  ?= $(shell node -e "const p=require('path');console.log(p.join(p.dirname(process.execPath),'..','lib','node_modules','npm','node_modules','node-gyp','bin','node-gyp.js'))")
NODEDIR   ?= $(shell [ -d /usr/include/node ] && echo /usr)

.PHONY: all bpf test-bpf native ts matrix-loader clean
all: bpf test-bpf native ts matrix-loader
bpf: $(BPF_OBJ)
test-bpf: $(TEST_BPF_OBJ) $(BENCH_BPF_OBJ)
native: $(if $(wildcard binding.gyp),$(NATIVE))
ts: dist/.stamp
matrix-loader: $(MATRIX_LOADER)

bpf/vmlinux.h:
	bpftool btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

build/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) bpf/vmlinux.h
	@mkdir -p $(dir $@)
	$(BPF_CLANG) -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -Ibpf -c $< -o $@.tmp
	llvm-strip -g $@.tmp && mv $@.tmp $@   # keeps .BTF/.BTF.ext (CO-RE), drops DWARF

build/test-bpf/%.bpf.o: test/fixtures/bpf/%.bpf.c bpf/vmlinux.h
	@mkdir -p $(dir $@)
	$(BPF_CLANG) -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -Ibpf -c $< -o $@.tmp
	llvm-strip -g $@.tmp && mv $@.tmp $@

build/bench/%.bpf.o: bench/kernel/%.bpf.c bpf/vmlinux.h
	@mkdir -p $(dir $@)
	$(BPF_CLANG) -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_x86 -Ibpf -c $< -o $@.tmp
	llvm-strip -g $@.tmp && mv $@.tmp $@

$(MATRIX_LOADER): test/kernel-matrix/matrix-loader.c bpf/event-layout.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Werror -static -Ibpf -o $@.tmp $< -lbpf -lelf -lz && mv $@.tmp $@

$(NATIVE): $(NATIVE_SRC)
	node $(NODE_GYP) configure build --loglevel=error $(if $(NODEDIR),--nodedir=$(NODEDIR)) >/dev/null

# The record layout userspace decodes, generated from the object's BTF (one definition: bpf/event-layout.h).
agent/capture/event-layout.ts: build/bpf/sockeye.bpf.o scripts/gen-event-layout.mjs
	node scripts/gen-event-layout.mjs $< $@

dist/.stamp: $(TS_SRC) agent/capture/event-layout.ts
	node node_modules/typescript/bin/tsc -p tsconfig.json
	@touch $@

clean:
	rm -rf build dist bpf/vmlinux.h
