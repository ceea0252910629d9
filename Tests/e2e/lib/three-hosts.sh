# Sourced (not run) by the kernel-forwarding tests and scripts/bench/kernel.sh: the three hosts of
# those runs as network namespaces joined by veth pairs, the relay in the middle.
#
#   caller $caller  kc 203.0.113.2/24  ── rc 203.0.113.1/24  relay $relay  re 198.51.100.1/24 ── ke 198.51.100.2/24  callee $callee
#                                                            lo 192.0.2.10/32 (the gate address)
#
# three_hosts_create makes them (the caller of this file sets $caller $relay $callee, and removes
# them in its own cleanup with three_hosts_delete); extra addresses are the caller's business.

three_hosts_create() {
  local n l
  for n in "$caller" "$relay" "$callee"; do ip netns add "$n" && ip -n "$n" link set lo up || return 1; done
  ip -n "$caller" link add kc type veth peer name rc netns "$relay" || return 1
  ip -n "$callee" link add ke type veth peer name re netns "$relay" || return 1
  ip -n "$caller" addr add 203.0.113.2/24 dev kc
  ip -n "$relay" addr add 203.0.113.1/24 dev rc
  ip -n "$relay" addr add 198.51.100.1/24 dev re
  ip -n "$callee" addr add 198.51.100.2/24 dev ke
  ip -n "$relay" addr add 192.0.2.10/32 dev lo
  for l in "$caller kc" "$relay rc" "$relay re" "$callee ke"; do
    set -- $l
    ip -n "$1" link set "$2" up || return 1
  done
  ip -n "$caller" route add default via 203.0.113.1
  ip -n "$callee" route add default via 198.51.100.1
  # Plain routing between the hosts: the ceiling of the benchmark, and how tests reach each other.
  ip netns exec "$relay" sysctl -qw net.ipv4.ip_forward=1
}

three_hosts_delete() {
  local n
  for n in "$caller" "$relay" "$callee"; do ip netns del "$n" 2>/dev/null; done
  return 0
}

# --- UDP endpoints, round by round (50-kernel-offload.sh, 51-kernel-offload-relay.sh) -----------
# An endpoint binds one address:port (as an RTP client does, for sending and receiving), waits for
# its round's go signal, sends COUNT packets to DST if given (paced 2 ms apart), then receives until
# the round ends, keeping "count sources" in its result file up to date. Checks read that file with
# `settles`, which polls until it says what they expect or a deadline passes: a round lasts as long
# as its packets take, and a check for "nothing arrived" is made after the round's senders are done
# and its expected packets have arrived (checks of a round put those first).
#   udp_rounds_setup                       once, after $work exists
#   begin                                  ends the previous round (its endpoints exit), starts the next
#   endpoint NS BIND PORT [DST_IP DST_PORT COUNT]   (env: UDP_SIZE=172, UDP_NO_CHECKSUM=1, UDP_IP_OPTIONS=1;
#                                          IPv6 when BIND has a colon)
#   run                                    go: returns when every sender of the round has sent
#   got NS PORT                            -> "count sources" so far
# Endpoints are in $pids, for the caller's cleanup; each also exits on its own after 120 s.
udp_rounds_setup() {
  round=0 pids=() senders=()
  cat > "$work/udp.py" <<'PY'
import os, select, socket, sys, time
bind, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
here = os.path.dirname(out)
give_up = time.time() + 120
s = socket.socket(socket.AF_INET6 if ":" in bind else socket.AF_INET, socket.SOCK_DGRAM); s.bind((bind, port))
if os.environ.get("UDP_NO_CHECKSUM"): s.setsockopt(socket.SOL_SOCKET, 11, 1)  # SO_NO_CHECK
if os.environ.get("UDP_IP_OPTIONS"): s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, b"\x01\x01\x01\x00")  # NOPs, EOL
size = int(os.environ.get("UDP_SIZE", "172"))
count, sources = 0, set()
def report():
    with open(out + ".tmp", "w") as f: f.write("%d %s\n" % (count, ",".join(sorted(sources)) or "-"))
    os.replace(out + ".tmp", out)
report()
open(out + ".ready", "w").close()
while not os.path.exists(os.path.join(here, "go")) and time.time() < give_up: time.sleep(0.01)
if len(sys.argv) > 4:
    dst, n = (sys.argv[4], int(sys.argv[5])), int(sys.argv[6])
    for i in range(n):
        s.sendto(b"\x80\x00" + (i % 65536).to_bytes(2, "big") + b"x" * (size - 4), dst); time.sleep(0.002)
    open(out + ".sent", "w").close()
while not os.path.exists(os.path.join(here, "stop")) and time.time() < give_up:
    if select.select([s], [], [], 0.05)[0]:
        data, src = s.recvfrom(65536); count += 1; sources.add("%s:%d" % src[:2]); report()
PY
}

endpoint() {
  local ns=$1 bind=$2 port=$3 out; shift 3
  out="$work/r$round/$ns-$port"
  ip netns exec "$ns" python3 "$work/udp.py" "$bind" "$port" "$out" "$@" & pids+=($!)
  [ $# -gt 0 ] && senders+=("$out")
  settles yes eval "[ -e '$out.ready' ] && echo yes" >/dev/null || echo "     endpoint $ns $bind:$port did not start"
}

begin() {
  if [ "$round" -gt 0 ]; then
    touch "$work/r$round/stop"
    wait "${pids[@]}" 2>/dev/null
  fi
  pids=() senders=()
  round=$((round + 1)); mkdir -p "$work/r$round"
}

run() {
  local s
  touch "$work/r$round/go"
  for s in "${senders[@]}"; do
    settles -t 30 yes eval "[ -e '$s.sent' ] && echo yes" >/dev/null || echo "     sender $s did not finish"
  done
}

got() { cat "$work/r$round/$1-$2"; }

# settles [-t SECONDS] WANT CMD...: CMD's output becomes WANT within SECONDS (default 5; CMD is
# run again every 50 ms); else says what it was last and fails.
settles() {
  local limit=5 want have
  if [ "$1" = -t ]; then limit=$2; shift 2; fi
  want=$1; shift
  local deadline=$(( $(date +%s%N) + limit * 1000000000 ))
  while :; do
    have=$("$@" 2>/dev/null)
    [ "$have" = "$want" ] && return 0
    [ "$(date +%s%N)" -ge "$deadline" ] && break
    sleep 0.05
  done
  echo "     got '$have', want '$want'"
  return 1
}
