#!/usr/bin/env bash
# Prepare a Docker engine, a loopback registry and the stand-in images that the demo, the tests,
# CI and the benchmarks use. Idempotent: whatever already answers is used as it is.
#
#   scripts/engine-setup.sh            # engine + registry + images
#
# Never contacts any registry but 127.0.0.1:5000. Environment knobs:
#   RECONCILER_RUN_DIR   where logs and registry storage live (default /tmp/reconciler-run)
#   REGISTRY_ADDR        loopback registry address (default 127.0.0.1:5000)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
run_dir="${RECONCILER_RUN_DIR:-/tmp/reconciler-run}"
registry_addr="${REGISTRY_ADDR:-127.0.0.1:5000}"
# Image names use "localhost:5000": Docker treats loopback registries as insecure by default.
registry_name="localhost:${registry_addr##*:}"
mkdir -p "$run_dir"

say() { printf '[engine-setup] %s\n' "$*" >&2; }
die() { printf '[engine-setup] error: %s\n' "$*" >&2; exit 1; }

# Debian's docker.io puts its client in /usr/bin; prefer it when a different one is first on PATH.
docker_cli() { if [ -x /usr/bin/docker ]; then /usr/bin/docker "$@"; else docker "$@"; fi; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND... : poll with a deadline
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
  say "$what is ready"
}

need_packages=()
ensure_packages() {
  command -v dockerd >/dev/null 2>&1 || need_packages+=(docker.io)
  command -v docker-registry >/dev/null 2>&1 || need_packages+=(docker-registry)
  # docker-compose 1.29 (tests/integration/adopt: a project started by Compose is adopted)
  command -v docker-compose >/dev/null 2>&1 || need_packages+=(docker-compose)
  [ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx httpd \
    || need_packages+=(busybox-static)
  # make bench's venv on docker-compose's own interpreter (Debian's python3 needs its venv
  # package); only where this script installs packages anyway
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
    && ! /usr/bin/python3 -c 'import ensurepip' >/dev/null 2>&1; then
    need_packages+=(python3-venv)
  fi
  [ ${#need_packages[@]} -eq 0 ] && return 0
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    die "missing: ${need_packages[*]}. Install Docker Engine, the Docker registry (distribution)
and a static busybox with httpd, or run this script as root on Debian, where it installs
them with apt-get (packages: docker.io docker-registry docker-compose busybox-static)."
  fi
  say "installing ${need_packages[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$run_dir/apt.log" 2>&1 || { tail -20 "$run_dir/apt.log" >&2; die "apt-get update failed"; }
  apt-get install -y -qq --no-install-recommends "${need_packages[@]}" >>"$run_dir/apt.log" 2>&1 \
    || { tail -20 "$run_dir/apt.log" >&2; die "apt-get install failed (log: $run_dir/apt.log)"; }
}

ensure_engine() {
  if docker_cli info >/dev/null 2>&1; then say "using the running engine"; return 0; fi
  ensure_packages
  if ! command -v dockerd >/dev/null 2>&1; then die "dockerd not found after install"; fi
  [ "$(id -u)" = 0 ] || die "no Docker engine answers and starting dockerd needs root"
  # A Swarm manager made by swarm-setup.sh listens on an address of its own bridge: the
  # bridge must exist before dockerd starts, or the manager comes up in an error state.
  if [ -x "$here/swarm-setup.sh" ] || [ -f "$here/swarm-setup.sh" ]; then
    bash "$here/swarm-setup.sh" bridge || say "could not create the Swarm bridge (Swarm tests will say why)"
  fi
  say "starting dockerd (log: $run_dir/dockerd.log)"
  setsid nohup dockerd >"$run_dir/dockerd.log" 2>&1 < /dev/null &
  echo $! >"$run_dir/dockerd.pid"
  wait_for 60 "dockerd" docker_cli info || { tail -30 "$run_dir/dockerd.log" >&2; die "dockerd did not answer within 60 s"; }
}

registry_answers() {
  python3 -c 'import sys, urllib.request; urllib.request.urlopen(f"http://{sys.argv[1]}/v2/", timeout=2)' \
    "$registry_addr" >/dev/null 2>&1
}

ensure_registry() {
  if registry_answers; then say "using the registry on $registry_addr"; return 0; fi
  command -v docker-registry >/dev/null 2>&1 || ensure_packages
  local storage; storage="$(mktemp -d "$run_dir/registry.XXXXXX")"
  say "starting docker-registry on $registry_addr (storage $storage, log $run_dir/registry.log)"
  REGISTRY_HTTP_ADDR="$registry_addr" REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY="$storage" \
    setsid nohup docker-registry serve "$here/registry.yml" >"$run_dir/registry.log" 2>&1 < /dev/null &
  echo $! >"$run_dir/registry.pid"
  wait_for 30 "registry" registry_answers || { tail -20 "$run_dir/registry.log" >&2; die "registry did not answer"; }
}

# A busybox root filesystem with every applet linked (httpd, wget, nc, sh, ...).
make_rootfs() {  # make_rootfs DIR VERSION
  local root=$1 version=$2 busybox=/bin/busybox
  [ -x "$busybox" ] || busybox=$(command -v busybox)
  rm -rf "$root"; mkdir -p "$root"/{bin,etc,tmp,www,root,var/www}
  chmod 1777 "$root/tmp"
  cp "$busybox" "$root/bin/busybox"
  local applet
  for applet in $("$root/bin/busybox" --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$root/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$root/etc/group"
  printf 'stand-in %s\n' "$version" >"$root/etc/stand-in-version"
  printf '<h1>stand-in %s</h1>\n' "$version" >"$root/www/index.html"
}

import_image() {  # import_image TAG VERSION
  local tag=$1 version=$2 root="$run_dir/rootfs-$2"
  make_rootfs "$root" "$version"
  tar -C "$root" -c . | docker_cli import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'CMD ["sh"]' - "$tag" >/dev/null
  rm -rf "$root"
}

ensure_images() {
  # Local bases (never pushed anywhere): what examples and tests build FROM.
  if ! docker_cli image inspect stand-in/busybox:latest >/dev/null 2>&1; then
    import_image stand-in/busybox:latest 1
    say "imported stand-in/busybox:latest"
  fi
  if ! docker_cli image inspect stand-in/busybox:2 >/dev/null 2>&1; then
    import_image stand-in/busybox:2 2
    say "imported stand-in/busybox:2"
  fi
  # Two tags of different content on the loopback registry (re-pushed: the registry may be new).
  local v
  for v in 1 2; do
    local src=stand-in/busybox:latest; [ "$v" = 2 ] && src=stand-in/busybox:2
    docker_cli tag "$src" "$registry_name/stand-in/busybox:$v"
    docker_cli push -q "$registry_name/stand-in/busybox:$v" >/dev/null \
      || die "push of $registry_name/stand-in/busybox:$v failed"
  done
  say "pushed $registry_name/stand-in/busybox:1 and :2"
}

ensure_engine
ensure_registry
ensure_images
say "ready: engine, registry $registry_addr, images stand-in/busybox:{latest,2}, $registry_name/stand-in/busybox:{1,2}"
