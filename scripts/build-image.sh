#!/usr/bin/env bash
# `npm run image`: builds the sockeye image (Containerfile) with podman as localhost/sockeye:dev, or
# as $SOCKEYE_IMAGE. Extra podman build flags go after `--` (e.g. `npm run image -- --pull=never`).
# runc rather than crun, and explicit ulimits: crun refuses some hosts' hybrid cgroup layouts, and
# without CAP_SYS_RESOURCE podman cannot raise the build containers' limits to its defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
image=${SOCKEYE_IMAGE:-localhost/sockeye:dev}
secret=()
[ -s "${NODE_EXTRA_CA_CERTS:-}" ] && secret=(--secret "id=npm_ca,src=$NODE_EXTRA_CA_CERTS")
runtime=()
command -v runc >/dev/null 2>&1 && runtime=(--runtime runc)
exec podman "${runtime[@]}" build --network=host --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 \
  "${secret[@]}" -t "$image" -f Containerfile "$@" .
