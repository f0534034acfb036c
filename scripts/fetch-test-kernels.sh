#!/usr/bin/env bash
# Fetches the Debian cloud kernels the kernel matrix test boots (test/kernel-matrix) into a cache.
# Uses a throwaway apt source list and state directory per suite, so the host's own apt sources and
# package lists are never touched; the mirror is the one the host's Debian sources already use.
# Idempotent: a suite whose vmlinuz is already cached is not fetched again.
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${SOCKEYE_KERNEL_CACHE:-$PWD/build/kernels}
suites=(${SOCKEYE_KERNEL_SUITES:-bullseye bookworm trixie trixie-backports})
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
log() { [ -n "${SOCKEYE_SETUP_QUIET:-}" ] || echo "fetch-test-kernels: $*" >&2; }

todo=()
for s in "${suites[@]}"; do [ -s "$cache/$s/vmlinuz" ] || todo+=("$s"); done
[ ${#todo[@]} -eq 0 ] && exit 0

# The Debian archive URI of the host's own sources (deb822 or one-line format), not a security one.
mirror=$({ cat /etc/apt/sources.list /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list 2>/dev/null || true; } \
  | grep -v '^\s*#' | grep -oE 'https?://[^ ]+/debian/?( |$)' | grep -v security | tr -d ' ' | sed -n 1p)
if [ -z "$mirror" ]; then
  echo "fetch-test-kernels: no Debian mirror found in /etc/apt/sources.list*; cannot fetch test kernels" >&2
  exit 1
fi

for s in "${todo[@]}"; do
  dir=$cache/$s state=$cache/$s/apt
  rm -rf "$state" && mkdir -p "$state/lists/partial" "$state/archives/partial"
  echo "deb [signed-by=$keyring] $mirror $s main" > "$state/sources.list"
  opts=(-o "Dir::Etc::sourcelist=$state/sources.list" -o Dir::Etc::sourceparts=- -o "Dir::State::Lists=$state/lists"
        -o "Dir::Cache=$state" -o "Dir::Cache::archives=$state/archives" -o APT::Architecture=amd64
        -o APT::Architectures=amd64 -o Acquire::Languages=none -o APT::Sandbox::User=root -qq)
  log "$s: reading the package list"
  apt-get "${opts[@]}" update >/dev/null
  # The metapackage names the versioned image package of the suite's current kernel.
  pkg=$(apt-cache "${opts[@]}" depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
  [ -n "$pkg" ] || { echo "fetch-test-kernels: $s: no linux-image-cloud-amd64 dependency found" >&2; exit 1; }
  # Newer kernels ship the image itself in a linux-binary-* package the image package depends on.
  bin=$(apt-cache "${opts[@]}" depends "$pkg" | awk '/Depends: linux-binary-[0-9]/ {print $2; exit}')
  log "$s: downloading ${bin:-$pkg}"
  (cd "$state" && apt-get "${opts[@]}" download "${bin:-$pkg}" >/dev/null)
  rm -rf "$state/root" && dpkg-deb -x "$state"/"${bin:-$pkg}"_*.deb "$state/root"
  # /boot/vmlinuz-RELEASE, or /usr/lib/modules/RELEASE/vmlinuz in the newer layout.
  image=$(find "$state/root" -path '*/boot/vmlinuz-*' -o -path '*/lib/modules/*/vmlinuz' | head -n1)
  [ -n "$image" ] || { echo "fetch-test-kernels: $s: no vmlinuz in ${bin:-$pkg}" >&2; exit 1; }
  cp "$image" "$dir/vmlinuz.tmp"
  echo "${pkg#linux-image-}" > "$dir/release"
  mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
  rm -rf "$state"   # only the kernel image is kept (modules are not needed: everything boots from an initramfs)
done
