#!/usr/bin/env bash
# One idempotent setup step behind `npm start`, `npm test` and `npm run bench`: installs the Debian
# toolchain and test peers that are missing, mounts tracefs, installs npm dependencies, and builds the
# BPF object, the native addon and the TypeScript. Quick (a few make checks) when all is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { [ -n "${SOCKEYE_SETUP_QUIET:-}" ] || echo "setup: $*" >&2; }

# "check:package" pairs. A check is a command name, or a path that must exist.
# Build: clang/llvm/bpftool/libbpf/libelf/zlib. Test peers: curl, dig, ip, iptables, conntrack, …,
# python3-grpcio (gRPC C-core client and server, imported by /usr/bin/python3).
# Kernel matrix (test/kernel-matrix): qemu and a static busybox for the guests' initramfs.
# Image (npm run image, test/deploy/image.test.ts): podman with runc, mmdebstrap for a local base image.
requirements=(
  clang:clang
  llvm-strip:llvm
  bpftool:bpftool
  /usr/include/bpf/libbpf.h:libbpf-dev
  /usr/include/libelf.h:libelf-dev
  /usr/include/zlib.h:zlib1g-dev
  make:make
  g++:g++
  pkg-config:pkg-config
  curl:curl
  dig:dnsutils
  ip:iproute2
  iptables:iptables
  conntrack:conntrack
  wrk:wrk
  hey:hey
  nginx:nginx-light
  prometheus:prometheus
  /usr/lib/python3/dist-packages/grpc/__init__.py:python3-grpcio
  qemu-system-x86_64:qemu-system-x86
  /bin/busybox:busybox-static
  podman:podman
  runc:runc
  mmdebstrap:mmdebstrap
  unzip:unzip
)
missing=()
for r in "${requirements[@]}"; do
  check=${r%%:*} pkg=${r#*:}
  if [[ $check == /* ]]; then [ -e "$check" ] || missing+=("$pkg")
  else command -v "$check" >/dev/null 2>&1 || [ -x "/usr/sbin/$check" ] || missing+=("$pkg"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]} — run as root or install them (apt-get install ${missing[*]})" >&2
    exit 1
  fi
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin:/sbin"

# SEC("tracepoint/...") programs attach through tracefs; some machines boot without it mounted.
if [ ! -e /sys/kernel/tracing/events ] && [ "$(id -u)" = 0 ]; then
  log "mounting tracefs at /sys/kernel/tracing"
  mount -t tracefs tracefs /sys/kernel/tracing || echo "setup: could not mount tracefs; tracepoint programs will fail to attach" >&2
fi

# npm dependencies: reinstall only when the lockfile changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm dependencies"
  npm ci --no-audit --no-fund --loglevel=error
fi

make -s all

# The Debian kernels the kernel matrix test boots (cached under build/kernels: a no-op once there).
bash scripts/fetch-test-kernels.sh
