# Sourced by scripts/bench/kernel.sh and scripts/bench/knee.sh: the relays under test inside the
# three namespaces of Tests/e2e/lib/three-hosts.sh (caller 203.0.113.2 — relay 192.0.2.10 — callee
# 198.51.100.2), started, given calls, and removed again. The sourcing script sets $caller $relay
# $callee $work, sources three-hosts.sh, and calls kr_cleanup from its exit trap.
#
#   kr_topology                      the namespaces, tx checksum offload off on both end hosts' veths
#   kr_start MODE CPU                a relay pinned to CPU: ours-user | ours-nftables | ours-xdp-generic |
#                                    ours-xdp-native | ours-xdp-auto | rtpengine; sets KR_PID
#   kr_calls N                       N calls (caller 203.0.113.2:4000+2i <-> callee 198.51.100.2:6000+2i);
#                                    sets KR_PORTS_A / KR_PORTS_B (comma lists), sends the learning
#                                    packets and, for an offloading relay, waits until it says "offloaded"
#   kr_stop                          stops it and removes what it left: nft table, XDP programs
#   kr_supports MODE                 whether this build of iptrtpproxyd can run MODE (else says why)
#   kr_cleanup                       everything above, for the exit trap (also restores bpf_stats)

KR_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KR_GATE=192.0.2.10
KR_CALLER=203.0.113.2 KR_CALLER_BASE=4000
KR_CALLEE=198.51.100.2 KR_CALLEE_BASE=6000
KR_PID="" KR_MODE="" KR_PORTS_A="" KR_PORTS_B=""
relayd=$(realpath -m "${IPTRTPPROXYD:-build/iptrtpproxyd}")
# The XDP object `make build` writes (the daemon looks in IPTRTPPROXY_BPF_DIR).
[ -z "${IPTRTPPROXY_BPF_DIR:-}" ] && [ -d build/bpf ] && export IPTRTPPROXY_BPF_DIR=$PWD/build/bpf
KR_BPF_STATS_BEFORE=""
# Relays, senders and sinks run at nice -10 (BENCH_NICE, as scripts/bench.sh; 0 turns it off), so
# that other work on a shared machine disturbs them less. The kernel's softirq work needs no help.
KR_NICE=()
[ "${BENCH_NICE:--10}" != 0 ] && KR_NICE=(nice -n "${BENCH_NICE:--10}")

kr_topology() {
  three_hosts_create || return 1
  # Full UDP checksums from the senders, as from a real NIC: with tx checksum offload on, veth hands
  # on CHECKSUM_PARTIAL packets whose check field holds only the pseudo-header sum, which the XDP
  # program passes to the normal path (it verifies the checksum it rewrites).
  ip netns exec "$caller" ethtool -K kc tx off >/dev/null 2>&1 || return 1
  ip netns exec "$callee" ethtool -K ke tx off >/dev/null 2>&1 || return 1
  # Neighbours resolved before anything is measured.
  ip netns exec "$caller" ping -c1 -W1 $KR_CALLEE >/dev/null 2>&1 || true
  ip netns exec "$caller" ping -c1 -W1 $KR_GATE >/dev/null 2>&1 || true
  ip netns exec "$callee" ping -c1 -W1 $KR_GATE >/dev/null 2>&1 || true
  cat > "$work/relay.cfg" <<CFG
[switchboard:bench]
addr-a = $KR_GATE
addr-b = $KR_GATE
port-a = 30000
port-b = 31000
max-sess = 300
expires-timeout = 600
CFG
}

# The daemon's options, read once (grep -q on a pipe could end the writer early: pipefail).
KR_HELP=$([ -x "$relayd" ] && "$relayd" --help 2>&1 || true)
kr_has() { grep -q -- "$1" <<<"$KR_HELP"; }
kr_supports() {
  case $1 in
    rtpengine) command -v rtpengine >/dev/null || { echo "rtpengine not installed (make deps)"; return 1; } ;;
    ours-user) [ -x "$relayd" ] || { echo "$relayd not built (make build)"; return 1; } ;;
    ours-nftables) kr_has --kernel-offload || { echo "$relayd has no --kernel-offload"; return 1; } ;;
    ours-xdp-*)
      kr_has --kernel-offload-path || { echo "$relayd has no XDP path (--kernel-offload-path) yet"; return 1; }
      command -v bpftool >/dev/null || { echo "bpftool not installed (make deps)"; return 1; } ;;
  esac
}

# The daemon's arguments per mode. Flood throttle off: the bench sends far above audio rates.
kr_args() {
  local a=(--config "$work/relay.cfg" --control "unix:$work/control.sock" --workers 1
           --max-stream-pps 100000000 --max-stream-burst 1000000 --log-level warning)
  local has_path=0; kr_has --kernel-offload-path && has_path=1
  case $1 in
    ours-user) ;;
    ours-nftables) a+=(--kernel-offload); [ $has_path = 1 ] && a+=(--kernel-offload-path nftables) ;;
    ours-xdp-*) a+=(--kernel-offload --kernel-offload-path xdp --xdp-mode "${1#ours-xdp-}") ;;
  esac
  printf '%s\n' "${a[@]}"
}

kr_start() {
  local mode=$1 cpu=$2 args
  KR_MODE=$mode
  rm -f "$work/control.sock"
  if [ "$mode" = rtpengine ]; then
    # User space only (--table=-1), one worker thread, confined to the core like ours.
    ip netns exec "$relay" "${KR_NICE[@]}" taskset -c "$cpu" rtpengine --foreground --log-stderr --table=-1 --num-threads=1 \
      --interface=$KR_GATE --listen-ng=$KR_GATE:2223 --port-min=30000 --port-max=30999 \
      --log-level=4 --timeout=600 --delete-delay=0 2>>"$work/rtpengine.log" &
    KR_PID=$!; pids+=("$KR_PID")
    return 0
  fi
  mapfile -t args < <(kr_args "$mode")
  ip netns exec "$relay" "${KR_NICE[@]}" taskset -c "$cpu" "$relayd" "${args[@]}" 2>>"$work/relay.log" &
  KR_PID=$!; pids+=("$KR_PID")
  local i
  for i in $(seq 200); do [ -S "$work/control.sock" ] && return 0; kill -0 "$KR_PID" 2>/dev/null || break; sleep 0.05; done
  echo "bench: $mode: the relay did not open its control socket; its log:" >&2; tail -5 "$work/relay.log" >&2
  return 1
}

kr_calls() {
  local n=$1 out=$work/calls i
  if [ "$KR_MODE" = rtpengine ]; then
    ip netns exec "$relay" python3 "$KR_HERE/knee_calls.py" setup rtpengine --ng $KR_GATE:2223 --streams "$n" \
      --caller $KR_CALLER:$KR_CALLER_BASE --callee $KR_CALLEE:$KR_CALLEE_BASE >"$out" || return 1
  else
    python3 "$KR_HERE/knee_calls.py" setup ours --control "unix:$work/control.sock" --streams "$n" \
      --caller $KR_CALLER:$KR_CALLER_BASE --callee $KR_CALLEE:$KR_CALLEE_BASE >"$out" || return 1
  fi
  KR_PORTS_A=$(awk '{ print $1 }' "$out" | paste -sd,) KR_PORTS_B=$(awk '{ print $2 }' "$out" | paste -sd,)
  # The caller speaks first (the relay latches it), then the callee: as a call starts.
  ip netns exec "$caller" python3 "$KR_HERE/knee_calls.py" learn --from $KR_CALLER:$KR_CALLER_BASE --to $KR_GATE --ports "$KR_PORTS_A"
  ip netns exec "$callee" python3 "$KR_HERE/knee_calls.py" learn --from $KR_CALLEE:$KR_CALLEE_BASE --to $KR_GATE --ports "$KR_PORTS_B"
  case $KR_MODE in
    ours-nftables|ours-xdp-*)
      # The housekeeping round installs latched streams in the kernel: wait until both RTP streams
      # of every call are there (10 s at most), learning packets again now and then.
      for i in $(seq 50); do
        [ "$(kr_offloaded)" -ge $((2 * n)) ] && break
        if [ $((i % 10)) = 0 ]; then
          ip netns exec "$caller" python3 "$KR_HERE/knee_calls.py" learn --count 1 --from $KR_CALLER:$KR_CALLER_BASE --to $KR_GATE --ports "$KR_PORTS_A"
          ip netns exec "$callee" python3 "$KR_HERE/knee_calls.py" learn --count 1 --from $KR_CALLEE:$KR_CALLEE_BASE --to $KR_GATE --ports "$KR_PORTS_B"
        fi
        sleep 0.2
      done
      [ "$(kr_offloaded)" -ge $((2 * n)) ] || { echo "bench: $KR_MODE: the streams were not offloaded within 10 s" >&2; return 1; }
      if [[ $KR_MODE == ours-xdp-* ]]; then kr_xdp_attached || return 1; fi ;;
  esac
}

kr_offloaded() { python3 "$KR_HERE/knee_calls.py" offloaded --control "unix:$work/control.sock" 2>/dev/null || echo 0; }

# The XDP rows must run on XDP (or, ours-xdp-tc, on the tc classifier): the daemon's `info`
# names the path, and the program must be attached.
kr_xdp_attached() {
  if [ -z "$(kr_fast_path_ids rc)" ]; then
    echo "bench: $KR_MODE: no fast-path program on rc; the daemon's info: $(kr_info)" >&2; return 1
  fi
}
# The ids of the eBPF programs attached in the relay namespace at XDP or tc (all interfaces, or
# DEV only), from bpftool's view of the namespace's hooks.
kr_fast_path_ids() {
  ip netns exec "$relay" bpftool net show -j 2>/dev/null | python3 -c '
import json, sys
dev = sys.argv[1] if len(sys.argv) > 1 else None
ids = set()
for hooks in json.load(sys.stdin):
    for kind in ("xdp", "tc"):
        for h in hooks.get(kind, []):
            if dev in (None, h.get("devname")) and h.get("id", h.get("prog_id")):
                ids.add(str(h.get("id", h.get("prog_id"))))
print(" ".join(sorted(ids)))' "$@"
}
kr_info() { python3 -c '
import sys; sys.path.insert(0, sys.argv[1])
from iptrtpproxy_calls import ControlClient
print(ControlClient(sys.argv[2], seconds=2).request("info"))' "$KR_HERE" "unix:$work/control.sock" 2>&1; }

kr_stop() {
  if [ -n "$KR_PID" ] && kill -TERM "$KR_PID" 2>/dev/null; then
    local i
    for i in $(seq 100); do kill -0 "$KR_PID" 2>/dev/null || break; sleep 0.05; done   # 5 s to exit
    kill -KILL "$KR_PID" 2>/dev/null || true
    wait "$KR_PID" 2>/dev/null || true
  fi
  KR_PID="" KR_MODE=""
  kr_kernel_leftovers
}

# What a daemon killed hard may leave in the relay namespace.
kr_kernel_leftovers() {
  ip netns exec "$relay" nft delete table netdev iptrtpproxy 2>/dev/null || true
  local l
  for l in rc re; do
    ip -n "$relay" link set dev $l xdp off 2>/dev/null || true
    ip -n "$relay" link set dev $l xdpgeneric off 2>/dev/null || true
    ip netns exec "$relay" tc qdisc del dev $l clsact 2>/dev/null || true
  done
}

# bpf_stats: on while the XDP rows run (its own cost, ~25 ns per run, is in the figure), restored after.
kr_bpf_stats_on() {
  [ -n "$KR_BPF_STATS_BEFORE" ] || KR_BPF_STATS_BEFORE=$(sysctl -n kernel.bpf_stats_enabled 2>/dev/null || echo 0)
  sysctl -qw kernel.bpf_stats_enabled=1 2>/dev/null || true
}
# "run_time_ns run_cnt" summed over the XDP programs attached in the relay namespace (other
# namespaces on the machine may run programs of the same name).
kr_bpf_stats() {
  local id t=0 c=0 rt rc
  for id in $(kr_fast_path_ids); do
    read -r rt rc < <(bpftool prog show id "$id" -j | python3 -c '
import json, sys
p = json.load(sys.stdin); print(p.get("run_time_ns", 0), p.get("run_cnt", 0))')
    t=$((t + rt)) c=$((c + rc))
  done
  echo "$t $c"
}

# The XDP program's own counters (bpf/iptrtpproxy_xdp.bpf.c, ipt_counters, summed over the CPUs):
# "forwarded F, passed: bad checksum C, no route R, malformed M".
kr_xdp_counters() {
  local id m
  id=$(kr_fast_path_ids rc); id=${id%% *}
  [ -n "$id" ] || { echo "no fast-path program on rc"; return 0; }
  for m in $(bpftool prog show id "$id" -j | python3 -c 'import json, sys; print(" ".join(map(str, json.load(sys.stdin)["map_ids"])))'); do
    bpftool map show id "$m" -j | grep -q '"name": *"ipt_counters"' || continue
    bpftool map dump id "$m" -j | python3 -c '
import json, sys
n = {}
for e in json.load(sys.stdin):
    e = e.get("formatted", e)  # with BTF, bpftool gives the numbers there (raw bytes outside)
    n[e["key"]] = sum(v["value"] for v in e["values"])
print(f"forwarded {n.get(0, 0)}, passed: bad checksum {n.get(1, 0)}, no route {n.get(2, 0)}, malformed {n.get(3, 0)}")'
  done
}

# Datagrams the relay namespace's UDP sockets took in (what the kernel paths did not forward).
kr_udp_in() { ip netns exec "$relay" awk '$1 == "Udp:" && $2 ~ /^[0-9]+$/ { print $2 }' /proc/net/snmp; }

kr_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "$KR_BPF_STATS_BEFORE" ] && sysctl -qw kernel.bpf_stats_enabled="$KR_BPF_STATS_BEFORE" 2>/dev/null
  ip netns list 2>/dev/null | grep -q "^$relay\b" && kr_kernel_leftovers
  three_hosts_delete
}
