#!/usr/bin/env bash
# Make the local engine a Swarm manager, and add a second node on this machine: a dockerd in a
# network namespace, joined as a worker. Idempotent: whatever already exists is kept.
#
#   scripts/swarm-setup.sh manager          # local engine -> single-node Swarm manager
#   scripts/swarm-setup.sh worker           # + namespace rcnode2 with its own dockerd, joined
#   scripts/swarm-setup.sh check            # prove it works (plain containers; two nodes if up)
#   scripts/swarm-setup.sh status           # print what exists
#   scripts/swarm-setup.sh teardown-worker  # remove the second node and all it needed
#   scripts/swarm-setup.sh teardown-manager # leave the Swarm (only if this script created it)
#
# Network design (docs/swarm-nodes.md has the why):
#   host  swx-br0 (bridge, 10.231.0.1/30) -- made by `manager`, kept until teardown-manager
#           `-- swx-veth0 (bridge port)  <== veth ==>  eth0 10.231.0.2/30 in netns rcnode2
#   The manager advertises 10.231.0.1 (not 127.0.0.1: a worker in a namespace would dial its own
#   loopback), listens for Swarm on 10.231.0.1:2377 only, and the address exists even while no
#   worker does, so single-node and two-node use the same manager and it never re-inits.
#   The namespace has no default route: it reaches the host and nothing else.
# Registry: the loopback registry (127.0.0.1:5000) is forwarded into the namespace at
#   127.0.0.1:5000 (and [::1]:5000) by a small forwarder, so `localhost:5000/NAME` means the
#   same registry on both nodes, and both daemons treat it as insecure (loopback).
# Ingress mesh: this kernel has no IPVS, so ingress-published ports never answer here; the
#   checks publish in host mode with --endpoint-mode dnsrr.
#
# Environment knobs:
#   RECONCILER_RUN_DIR   logs and state (default /tmp/reconciler-run)
#   REGISTRY_ADDR        loopback registry address (default 127.0.0.1:5000)
#   SWX_CHECK_PORT       host-mode port the check service publishes (default 18931)
set -euo pipefail

run_dir="${RECONCILER_RUN_DIR:-/tmp/reconciler-run}"
registry_addr="${REGISTRY_ADDR:-127.0.0.1:5000}"
registry_port="${registry_addr##*:}"
registry_name="localhost:$registry_port"      # resolves to the same registry on both nodes
state_dir="$run_dir/swx-swarm"

bridge=swx-br0                 # host side, holds the manager's advertise address
veth_host=swx-veth0            # host end, a port of $bridge
veth_peer=swx-veth1            # peer end, renamed eth0 inside the namespace
netns=rcnode2
netns_path="/var/run/netns/$netns"
host_addr=10.231.0.1           # manager advertise + listen address
node_addr=10.231.0.2           # worker address (inside $netns)
prefix=30
worker_bip=10.231.8.1/24       # docker0 of the worker (inside $netns only)
worker_run=/run/$netns         # exec-root, socket, pidfile, forwarder pid
worker_data=/var/lib/swx-$netns
worker_sock="unix://$worker_run/docker.sock"
check_port="${SWX_CHECK_PORT:-18931}"

say() { printf '[swarm-setup] %s\n' "$*" >&2; }
die() { printf '[swarm-setup] error: %s\n' "$*" >&2; exit 1; }

# Debian's docker.io puts its client in /usr/bin; prefer it when a different one is first on PATH.
if [ -x /usr/bin/docker ]; then docker_bin=/usr/bin/docker; else docker_bin=docker; fi
docker_cli() { "$docker_bin" "$@"; }
wdocker() { "$docker_bin" -H "$worker_sock" "$@"; }   # the worker's daemon
if [ -x /usr/bin/python3 ]; then python_bin=/usr/bin/python3; else python_bin=$(command -v python3); fi
python() { "$python_bin" "$@"; }

wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND... : poll with a deadline
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
  say "$what is ready"
}

need_root() { [ "$(id -u)" = 0 ] || die "$1 needs root"; }
swarm_field() { docker_cli info --format "{{.Swarm.$1}}" 2>/dev/null; }
worker_swarm_field() { wdocker info --format "{{.Swarm.$1}}" 2>/dev/null; }
swarm_inactive() { [ "$(swarm_field LocalNodeState)" = inactive ]; }
pid_alive() { [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# ---------------------------------------------------------------------------------------------
# manager

ensure_bridge() {
  if ! ip link show "$bridge" >/dev/null 2>&1; then
    ip link add "$bridge" type bridge forward_delay 0   # no STP wait before a port forwards
    say "created bridge $bridge"
  fi
  ip -4 addr show dev "$bridge" | grep -q "inet $host_addr/$prefix" \
    || ip addr add "$host_addr/$prefix" dev "$bridge"
  ip link set "$bridge" up
}

ensure_manager() {
  need_root "manager"
  docker_cli info >/dev/null 2>&1 || die "no Docker engine answers; run scripts/engine-setup.sh first"
  mkdir -p "$state_dir"
  ensure_bridge
  local state control addr
  state=$(swarm_field LocalNodeState)
  case "$state" in
    inactive)
      # docker_gwbridge appears with the first Swarm; remember whether it was there before.
      if docker_cli network inspect docker_gwbridge >/dev/null 2>&1; then
        : >"$state_dir/gwbridge-preexisting"
      else
        rm -f "$state_dir/gwbridge-preexisting"
      fi
      docker_cli swarm init --advertise-addr "$host_addr" --listen-addr "$host_addr:2377" >/dev/null
      : >"$state_dir/created-swarm"
      say "initialised a Swarm: manager advertises $host_addr:2377"
      ;;
    active) ;;
    error|pending)
      # dockerd came up before the bridge holding our advertise address existed (a machine
      # whose network was reset, or a dockerd started without engine-setup.sh): the manager
      # cannot listen. Only for a Swarm of ours (its error names our address): leave it and
      # initialise it again; its services were test objects of earlier runs.
      local err; err=$(swarm_field Error)
      case "$err" in
        *"$host_addr"*)
          say "the Swarm cannot listen on $host_addr (the bridge was missing at dockerd start); re-initialising it"
          docker_cli swarm leave --force >/dev/null 2>&1 || true
          wait_for 30 "leaving the broken Swarm" swarm_inactive \
            || die "the engine did not leave its broken Swarm (state $(swarm_field LocalNodeState))"
          docker_cli swarm init --advertise-addr "$host_addr" --listen-addr "$host_addr:2377" >/dev/null
          : >"$state_dir/created-swarm"
          say "initialised a Swarm again: manager advertises $host_addr:2377"
          ;;
        *) die "the engine's Swarm state is '$state' (error: $err); resolve it by hand" ;;
      esac
      ;;
    *) die "the engine's Swarm state is '$state' (error: $(swarm_field Error)); resolve it by hand" ;;
  esac
  control=$(swarm_field ControlAvailable)
  [ "$control" = true ] || die "the engine is in a Swarm but not a manager; leave it first"
  addr=$(swarm_field NodeAddr)
  if [ "$addr" != "$host_addr" ]; then
    say "warning: this manager advertises $addr, not $host_addr. Single-node Swarm works, but a"
    say "  worker in a namespace cannot join it (it would dial $addr inside its own namespace)."
    say "  To fix: scripts/swarm-setup.sh teardown-manager && scripts/swarm-setup.sh manager"
  fi
  wait_for 30 "manager node" manager_node_ready || die "the manager node did not become Ready"
  say "manager: node $(swarm_field NodeID) at $addr"
}

manager_node_ready() {
  [ "$(docker_cli node inspect self --format '{{.Status.State}}' 2>/dev/null)" = ready ]
}

# ---------------------------------------------------------------------------------------------
# worker

# A TCP forwarder that listens inside the namespace (on its loopback) and connects from the
# host's network namespace: one process, no listener on any host address.
# Usage: python3 -c "$forwarder_py" NETNS_PATH LISTEN_PORT:TARGET_HOST:TARGET_PORT...
# shellcheck disable=SC2016
forwarder_py='
import ctypes, os, socket, sys, threading
CLONE_NEWNET = 0x40000000
libc = ctypes.CDLL(None, use_errno=True)
def setns(fd):
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno(); raise OSError(err, os.strerror(err))
netns_path, specs = sys.argv[1], sys.argv[2:]
host_ns = os.open("/proc/self/ns/net", os.O_RDONLY)
target_ns = os.open(netns_path, os.O_RDONLY)
listeners = []
setns(target_ns)                      # main thread only, before any other thread exists
try:
    for spec in specs:
        lport, thost, tport = spec.split(":")
        for family, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")):
            try:
                s = socket.socket(family, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind((addr, int(lport))); s.listen(128)
            except OSError as e:
                if family == socket.AF_INET: raise
                print(f"forwarder: no [{addr}]:{lport}: {e}", flush=True); continue
            listeners.append((s, (thost, int(tport))))
finally:
    setns(host_ns)                    # back home: every socket created from now on is on the host
def pump(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data: break
            dst.sendall(data)
    except OSError: pass
    finally:
        for sock, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try: sock.shutdown(how)
            except OSError: pass
def handle(conn, target):
    try:
        up = socket.create_connection(target, timeout=10); up.settimeout(None)
    except OSError as e:
        print(f"forwarder: {target}: {e}", flush=True); conn.close(); return
    back = threading.Thread(target=pump, args=(up, conn), daemon=True); back.start()
    pump(conn, up); back.join()
    conn.close(); up.close()
def serve(lsock, target):
    while True:
        conn, _ = lsock.accept()
        threading.Thread(target=handle, args=(conn, target), daemon=True).start()
threads = [threading.Thread(target=serve, args=l, daemon=True) for l in listeners]
for t in threads: t.start()
print("forwarder: listening " + " ".join(f"{l.getsockname()[0]}:{l.getsockname()[1]}->{t[0]}:{t[1]}" for l, t in listeners), flush=True)
for t in threads: t.join()
'

in_netns() { nsenter --net="$netns_path" "$@"; }

registry_answers_in_netns() {
  in_netns "$python_bin" -c \
    'import sys, urllib.request; urllib.request.urlopen(f"http://{sys.argv[1]}/v2/", timeout=2)' \
    "127.0.0.1:$registry_port"
}

manager_port_answers_in_netns() {
  in_netns "$python_bin" -c 'import socket, sys; socket.create_connection((sys.argv[1], 2377), timeout=1).close()' "$host_addr"
}

ensure_netns() {
  [ -e "$netns_path" ] || { ip netns add "$netns"; say "created network namespace $netns"; }
  in_netns ip link set lo up
  if ! ip link show "$veth_host" >/dev/null 2>&1; then
    # a stale peer could remain inside the namespace only if the host end vanished on its own
    in_netns ip link del eth0 >/dev/null 2>&1 || true
    ip link add "$veth_host" type veth peer name "$veth_peer" netns "$netns"
    in_netns ip link set "$veth_peer" name eth0
    say "created veth $veth_host <-> $netns:eth0"
  fi
  ip link set "$veth_host" master "$bridge" up
  in_netns ip -4 addr show dev eth0 | grep -q "inet $node_addr/$prefix" \
    || in_netns ip addr add "$node_addr/$prefix" dev eth0
  in_netns ip link set eth0 up
  wait_for 20 "link $netns -> $host_addr:2377" manager_port_answers_in_netns \
    || die "the namespace cannot reach the manager on $host_addr:2377"
}

ensure_forwarder() {
  mkdir -p "$worker_run"
  if pid_alive "$worker_run/forwarder.pid" && registry_answers_in_netns; then return 0; fi
  registry_answers_in_netns >/dev/null 2>&1 && die "something else already listens on 127.0.0.1:$registry_port in $netns"
  setsid nohup "$python_bin" -c "$forwarder_py" \
    "$netns_path" "$registry_port:${registry_addr%:*}:$registry_port" \
    >"$state_dir/forwarder.log" 2>&1 </dev/null &
  echo $! >"$worker_run/forwarder.pid"
  wait_for 10 "registry forwarder ($netns 127.0.0.1:$registry_port -> host $registry_addr)" \
    registry_answers_in_netns || { cat "$state_dir/forwarder.log" >&2; die "registry not reachable in $netns"; }
}

ensure_worker_daemon() {
  if wdocker info >/dev/null 2>&1; then return 0; fi
  if pid_alive "$worker_run/docker.pid"; then
    die "a dockerd (pid $(cat "$worker_run/docker.pid")) owns $worker_run but does not answer; run teardown-worker"
  fi
  mkdir -p "$worker_run" "$worker_data"
  # Its own config file (never /etc/docker/daemon.json of the main engine) and its own engine key
  # (20.10 reads /etc/docker/key.json by default; the key path exists only in the config file).
  printf '{"deprecated-key-path": "%s/key.json"}\n' "$worker_data" >"$worker_run/daemon.json"
  say "starting the worker dockerd in $netns (log: $state_dir/dockerd-$netns.log)"
  # nsenter --net, not `ip netns exec`: the latter remounts /sys and dockerd then fails with
  # "Devices cgroup isn't mounted". unshare --uts gives the node its own hostname in `node ls`.
  setsid nohup nsenter --net="$netns_path" unshare --uts -- sh -c 'hostname "$0" && exec "$@"' "$netns" \
    dockerd \
      --data-root "$worker_data" \
      --exec-root "$worker_run/exec" \
      --pidfile "$worker_run/docker.pid" \
      -H "$worker_sock" \
      --config-file "$worker_run/daemon.json" \
      --containerd-namespace "swx-$netns" \
      --containerd-plugins-namespace "swx-$netns-plugins" \
      --bip "$worker_bip" \
      --insecure-registry "$registry_name" \
      --insecure-registry "127.0.0.1:$registry_port" \
    >"$state_dir/dockerd-$netns.log" 2>&1 </dev/null &
  local pid=$! deadline=$((SECONDS + 60))   # nsenter, unshare and sh exec: $! ends up as dockerd
  until wdocker info >/dev/null 2>&1; do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -30 "$state_dir/dockerd-$netns.log" >&2; die "the worker dockerd exited"
    fi
    [ "$SECONDS" -lt "$deadline" ] || { tail -30 "$state_dir/dockerd-$netns.log" >&2; die "the worker dockerd did not answer within 60 s"; }
    sleep 0.2
  done
  say "worker dockerd is ready (pid $(cat "$worker_run/docker.pid"))"
}

worker_node_id() { worker_swarm_field NodeID; }

worker_node_ready() {
  local id; id=$(worker_node_id); [ -n "$id" ] || return 1
  [ "$(docker_cli node inspect "$id" --format '{{.Status.State}}' 2>/dev/null)" = ready ]
}

ensure_joined() {
  local state cluster_mgr id token
  state=$(worker_swarm_field LocalNodeState)
  if [ "$state" = active ]; then
    id=$(worker_node_id)
    # joined, and known to this manager: done. Joined elsewhere (a manager re-initialised): leave.
    if docker_cli node inspect "$id" >/dev/null 2>&1; then return 0; fi
    say "the worker is in another Swarm (node $id unknown here); leaving it"
    wdocker swarm leave --force >/dev/null
  elif [ "$state" != inactive ]; then
    say "the worker's Swarm state is '$state'; leaving and re-joining"
    wdocker swarm leave --force >/dev/null 2>&1 || true
  fi
  cluster_mgr=$(swarm_field NodeAddr)
  [ "$cluster_mgr" = "$host_addr" ] || die "the manager advertises $cluster_mgr, which $netns cannot reach.
  Re-create it: scripts/swarm-setup.sh teardown-manager && scripts/swarm-setup.sh manager"
  token=$(docker_cli swarm join-token -q worker)
  wdocker swarm join --token "$token" --advertise-addr "$node_addr" --listen-addr "$node_addr:2377" \
    "$host_addr:2377" >/dev/null
  say "the worker joined the Swarm as node $(worker_node_id)"
}

ensure_worker() {
  local t0=$SECONDS
  ensure_manager
  ensure_netns
  ensure_forwarder
  ensure_worker_daemon
  ensure_joined
  wait_for 60 "worker node (Ready on the manager)" worker_node_ready \
    || { docker_cli node ls >&2; die "the worker node did not become Ready within 60 s"; }
  docker_cli node update --label-add "swx.node=$netns" "$(worker_node_id)" >/dev/null
  docker_cli node ls >&2
  say "worker ready in $((SECONDS - t0)) s: node $(worker_node_id) at $node_addr; registry name $registry_name/..."
}

# ---------------------------------------------------------------------------------------------
# teardown

stop_pidfile() {  # stop_pidfile FILE WHAT : TERM, wait up to 30 s, then KILL
  local file=$1 what=$2 pid deadline
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + 30))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then say "$what (pid $pid) ignored TERM; killing"; kill -KILL "$pid" 2>/dev/null || true; fi
    say "stopped $what (pid $pid)"
  fi
  rm -f "$file"
}

unmount_under() {  # unmount every mount point below a directory, deepest first
  local dir=$1 m
  [ -d "$dir" ] || return 0
  awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || say "could not unmount $m"
  done
}

teardown_worker() {
  need_root "teardown-worker"
  local id="" pid
  if wdocker info >/dev/null 2>&1; then
    id=$(worker_node_id)
    if [ "$(worker_swarm_field LocalNodeState)" != inactive ]; then
      wdocker swarm leave --force >/dev/null 2>&1 || true
      say "the worker left the Swarm"
    fi
  fi
  # Remove the worker's node entries from the manager (by ID, and any node left behind with the
  # worker's address, e.g. from an earlier run whose daemon died).
  if [ "$(swarm_field ControlAvailable)" = true ]; then
    local n
    for n in $(docker_cli node ls -q 2>/dev/null); do
      if [ "$n" = "$id" ] || [ "$(docker_cli node inspect "$n" --format '{{.Status.Addr}}' 2>/dev/null)" = "$node_addr" ]; then
        docker_cli node rm --force "$n" >/dev/null && say "removed node $n from the manager"
      fi
    done
  fi
  stop_pidfile "$worker_run/docker.pid" "the worker dockerd"
  # anything still running in the namespace was started for it (containerd, shims)
  if [ -e "$netns_path" ]; then
    for pid in $(ip netns pids "$netns" 2>/dev/null); do
      kill -KILL "$pid" 2>/dev/null && say "killed leftover pid $pid in $netns" || true
    done
  fi
  stop_pidfile "$worker_run/forwarder.pid" "the registry forwarder"
  unmount_under "$worker_run"
  unmount_under "$worker_data"
  if ip link show "$veth_host" >/dev/null 2>&1; then ip link del "$veth_host"; say "removed veth $veth_host"; fi
  if [ -e "$netns_path" ]; then ip netns del "$netns"; say "removed network namespace $netns"; fi
  rm -rf "$worker_run" "$worker_data"
  say "worker torn down"
}

teardown_manager() {
  need_root "teardown-manager"
  local others
  if [ "$(swarm_field LocalNodeState)" = active ]; then
    [ -e "$state_dir/created-swarm" ] || die "this script did not create the engine's Swarm; leaving it alone"
    [ -e "$netns_path" ] && die "the worker still exists; run teardown-worker first"
    others=$(docker_cli service ls --format '{{.Name}}' | grep -v '^swx-' || true)
    [ -z "$others" ] || die "services other than swx-* exist ($(echo $others)); not leaving the Swarm"
    docker_cli swarm leave --force >/dev/null
    say "the engine left the Swarm"
    if [ ! -e "$state_dir/gwbridge-preexisting" ] && docker_cli network inspect docker_gwbridge >/dev/null 2>&1; then
      docker_cli network rm docker_gwbridge >/dev/null 2>&1 && say "removed docker_gwbridge (made by the Swarm)" \
        || say "docker_gwbridge is in use; kept"
    fi
  fi
  rm -f "$state_dir/created-swarm" "$state_dir/gwbridge-preexisting"
  if ip link show "$bridge" >/dev/null 2>&1; then ip link del "$bridge"; say "removed bridge $bridge"; fi
}

# ---------------------------------------------------------------------------------------------
# status

status() {
  local s
  echo "manager engine: swarm $(swarm_field LocalNodeState), manager=$(swarm_field ControlAvailable), addr=$(swarm_field NodeAddr), node=$(swarm_field NodeID)"
  [ -e "$state_dir/created-swarm" ] && echo "  (Swarm created by this script)"
  if ip link show "$bridge" >/dev/null 2>&1; then
    echo "bridge $bridge: $(ip -br -4 addr show dev "$bridge" | awk '{print $2, $3}')"
  else echo "bridge $bridge: absent"; fi
  if [ -e "$netns_path" ]; then
    echo "netns $netns: present; eth0 $(in_netns ip -br -4 addr show dev eth0 2>/dev/null | awk '{print $2, $3}')"
  else echo "netns $netns: absent"; fi
  ip link show "$veth_host" >/dev/null 2>&1 && echo "veth $veth_host: present" || echo "veth $veth_host: absent"
  if pid_alive "$worker_run/forwarder.pid"; then
    echo "registry forwarder: pid $(cat "$worker_run/forwarder.pid") ($netns 127.0.0.1:$registry_port -> $registry_addr)"
  else echo "registry forwarder: not running"; fi
  if wdocker info >/dev/null 2>&1; then
    echo "worker dockerd: pid $(cat "$worker_run/docker.pid" 2>/dev/null), $worker_sock, swarm $(worker_swarm_field LocalNodeState), node $(worker_node_id)"
  else echo "worker dockerd: not answering"; fi
  for s in "$worker_run" "$worker_data"; do [ -d "$s" ] && echo "dir $s: present"; done
  if [ "$(swarm_field ControlAvailable)" = true ]; then
    echo "nodes:"; docker_cli node ls | sed 's/^/  /'
    echo "swx- services:"; docker_cli service ls --filter name=swx- --format '  {{.Name}} {{.Mode}} {{.Replicas}}'
  fi
  echo "swx- networks:"; echo; docker_cli network ls --filter name=swx- --format '  {{.Name}} {{.Driver}} {{.Scope}}'
}

# ---------------------------------------------------------------------------------------------
# check: plain containers on a manager; two nodes (placement, registry pull, overlay, host ports)

fetch() {  # fetch URL : print the body
  python -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=3).read().decode().strip())' "$1"
}

check_plain() {
  local c=swx-check-plain port body
  docker_cli rm -f "$c" >/dev/null 2>&1 || true
  docker_cli run -d --name "$c" -p 127.0.0.1::8080 stand-in/busybox:latest \
    httpd -f -p 8080 -h /www >/dev/null
  port=$(docker_cli port "$c" 8080/tcp | head -1); port=${port##*:}
  wait_for 20 "plain container on 127.0.0.1:$port" fetch "http://127.0.0.1:$port/" \
    || { docker_cli rm -f "$c" >/dev/null; die "a plain container's published port does not answer"; }
  body=$(fetch "http://127.0.0.1:$port/")
  docker_cli rm -f "$c" >/dev/null
  say "ok: plain container with -p 127.0.0.1::8080 answered '$body' on a Swarm manager"
}

running_tasks() {  # running_tasks SERVICE : "task node container" for each running task
  local t
  for t in $(docker_cli service ps -q --filter desired-state=running "$1" 2>/dev/null); do
    docker_cli inspect "$t" --format '{{if eq .Status.State "running"}}{{.ID}} {{.NodeID}} {{.Status.ContainerStatus.ContainerID}}{{end}}'
  done | sed '/^$/d'
}

two_running_on_two_nodes() {
  [ "$(running_tasks "$1" | awk '{print $2}' | sort -u | wc -l)" = 2 ]
}

no_check_containers() {
  ! docker_cli ps -aq --filter label=com.docker.swarm.service.name=swx-check-web | grep -q .
}

check_cleanup() {
  docker_cli service rm swx-check-web >/dev/null 2>&1 || true
  # the overlay network can be removed once the service's tasks are gone
  wait_for 30 "service removal" no_check_containers || true
  local i
  for i in $(seq 50); do
    docker_cli network inspect swx-check-net >/dev/null 2>&1 || break
    docker_cli network rm swx-check-net >/dev/null 2>&1 && break
    sleep 0.2
  done
  docker_cli image rm "$registry_name/swx-check:1" >/dev/null 2>&1 || true
  if wdocker info >/dev/null 2>&1; then
    wdocker ps -aq --filter label=com.docker.swarm.service.name=swx-check-web | xargs -r "$docker_bin" -H "$worker_sock" rm -f >/dev/null 2>&1 || true
    wdocker images -q "$registry_name/swx-check" | sort -u | xargs -r "$docker_bin" -H "$worker_sock" rmi -f >/dev/null 2>&1 || true
  fi
  # drop the manifest from the loopback registry too (delete is enabled in registry.yml)
  if [ -n "${check_digest:-}" ]; then
    python -c 'import sys, urllib.request; urllib.request.urlopen(urllib.request.Request(sys.argv[1], method="DELETE"), timeout=5)' \
      "http://$registry_addr/v2/swx-check/manifests/$check_digest" >/dev/null 2>&1 || true
  fi
}

check_two_nodes() {
  local img="$registry_name/swx-check:1" t0=$SECONDS tasks mgr_id wrk_id line task node cid
  check_digest=""
  trap check_cleanup EXIT
  check_cleanup
  # a tiny image that exists only here, so the worker must pull it from the registry
  printf 'FROM stand-in/busybox:latest\nRUN echo swx-check > /www/check.txt\n' \
    | docker_cli build -q -t "$img" - >/dev/null
  docker_cli push -q "$img" >/dev/null
  check_digest=$(docker_cli image inspect "$img" --format '{{index .RepoDigests 0}}'); check_digest=${check_digest#*@}
  say "pushed $img ($check_digest)"
  t0=$SECONDS
  docker_cli network create -d overlay --attachable swx-check-net >/dev/null
  # Host-mode port and dnsrr: the ingress mesh and VIPs need IPVS, which this kernel lacks.
  docker_cli service create -d --name swx-check-web \
    --mode replicated --replicas 2 --placement-pref spread=node.id \
    --endpoint-mode dnsrr --network swx-check-net \
    --publish "mode=host,published=$check_port,target=8080" \
    "$img" sh -c 'hostname > /www/host.txt; exec httpd -f -p 8080 -h /www' >/dev/null
  wait_for 90 "2 tasks running on 2 nodes" two_running_on_two_nodes swx-check-web \
    || { docker_cli service ps --no-trunc swx-check-web >&2; die "the service did not run on both nodes"; }
  tasks=$(running_tasks swx-check-web)
  mgr_id=$(swarm_field NodeID); wrk_id=$(worker_node_id)
  echo "$tasks" | grep -q " $mgr_id " || die "no task on the manager"
  echo "$tasks" | grep -q " $wrk_id " || die "no task on the worker"
  say "ok: one task on each node ($((SECONDS - t0)) s from create)"
  wdocker image inspect "$img@$check_digest" >/dev/null 2>&1 \
    || wdocker images --digests | grep -q "$check_digest" || die "the worker has no image $img@$check_digest"
  say "ok: the worker pulled $img@$check_digest through the forwarded registry"
  local mgr_cid wrk_cid mgr_host wrk_host
  mgr_cid=$(echo "$tasks" | awk -v n="$mgr_id" '$2 == n {print $3}')
  wrk_cid=$(echo "$tasks" | awk -v n="$wrk_id" '$2 == n {print $3}')
  mgr_host=$(docker_cli exec "$mgr_cid" cat /www/host.txt)
  wrk_host=$(wdocker exec "$wrk_cid" cat /www/host.txt)
  # overlay + dnsrr: the service name resolves to every task's overlay address; each replica
  # reaches the other through it.
  local seen
  seen_from() {  # seen_from DOCKER... CID : hostnames answered behind the service name
    local cid=${*: -1}; set -- "${@:1:$#-1}"
    "$@" exec "$cid" sh -c 'for ip in $(nslookup swx-check-web 2>/dev/null | awk "/^Address/ && !/127.0.0.11/ {print \$NF}"); do timeout 5 wget -qO- http://$ip:8080/host.txt; done'
  }
  seen=$(seen_from docker_cli "$mgr_cid" | sort -u | tr '\n' ' ')
  case " $seen" in *" $wrk_host "*) ;; *) die "from the manager's replica, swx-check-web gave [$seen], not the worker's replica $wrk_host";; esac
  seen=$(seen_from wdocker "$wrk_cid" | sort -u | tr '\n' ' ')
  case " $seen" in *" $mgr_host "*) ;; *) die "from the worker's replica, swx-check-web gave [$seen], not the manager's replica $mgr_host";; esac
  docker_cli exec "$mgr_cid" timeout 5 wget -qO- "http://swx-check-web:8080/check.txt" >/dev/null \
    || die "wget http://swx-check-web:8080/ failed in the manager's replica"
  say "ok: over the overlay swx-check-net, each replica reaches the other by service name (dnsrr)"
  local body
  wait_for 20 "host-mode port on the manager" fetch "http://127.0.0.1:$check_port/host.txt" || die "127.0.0.1:$check_port does not answer"
  body=$(fetch "http://127.0.0.1:$check_port/host.txt")
  [ "$body" = "$mgr_host" ] || die "127.0.0.1:$check_port answered '$body', not the manager's replica $mgr_host"
  wait_for 20 "host-mode port on the worker" fetch "http://$node_addr:$check_port/host.txt" || die "$node_addr:$check_port does not answer"
  body=$(fetch "http://$node_addr:$check_port/host.txt")
  [ "$body" = "$wrk_host" ] || die "$node_addr:$check_port answered '$body', not the worker's replica $wrk_host"
  say "ok: host-mode port $check_port answers on 127.0.0.1 (manager) and $node_addr (worker)"
  check_cleanup
  trap - EXIT
  say "two-node check passed in $((SECONDS - t0)) s; cleaned up"
}

check() {
  [ "$(swarm_field ControlAvailable)" = true ] || die "the engine is not a Swarm manager; run: $0 manager"
  check_plain
  if wdocker info >/dev/null 2>&1 && worker_node_ready; then
    check_two_nodes
  else
    say "no worker: skipped the two-node check (run: $0 worker)"
  fi
}

case "${1:-}" in
  manager) ensure_manager ;;
  bridge) need_root bridge; ensure_bridge ;;   # engine-setup.sh: before it starts dockerd
  worker) ensure_worker ;;
  teardown-worker) teardown_worker ;;
  teardown-manager) teardown_manager ;;
  status) status ;;
  check) check ;;
  *) printf 'usage: %s manager|bridge|worker|check|status|teardown-worker|teardown-manager\n' "$0" >&2; exit 64 ;;
esac
