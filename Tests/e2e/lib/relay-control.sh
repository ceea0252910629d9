# Sourced by the tests that drive iptrtpproxyd over its control socket directly (51, 52): requests
# with a fresh connection each, JSON replies read with Python, waits on conditions.
#   relay_control_setup           once, after $work exists (writes $work/ctl.py)
#   ctl COMMAND...                one request on $work/control.sock; prints "STATUS PAYLOAD"
#   json COMMAND 'EXPRESSION'     the reply's JSON as d, EXPRESSION printed
#   offloaded [SWITCHBOARD]       "true" when every stream of every session (of SWITCHBOARD) is in the kernel
#   wait_for SECONDS 'CONDITION'  until the shell condition holds (evaluated anew every 0.1 s)
#   check NAME CMD...             runs CMD, prints "ok   NAME" or "FAIL NAME" and counts $fails
#   is HAVE WANT                  equal, or says what it got
#   traffic N                     (three-hosts.sh rounds) N RTP and N/5 RTCP packets each way between the
#                                 NAT'd caller 203.0.113.50:5555/5556 and gate A $pa, the callee
#                                 198.51.100.2:6000/6001 and gate B $pb (the kernel-offload tests' call)

relay_control_setup() {
  cat > "$work/ctl.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); s.settimeout(3); s.connect(sys.argv[1])
f = s.makefile("rwb"); f.readline()  # the relay's greeting
f.write(("iptrtp/2 1 " + " ".join(sys.argv[2:]) + "\n").encode()); f.flush()
print(" ".join(f.readline().decode().rstrip("\n").split(" ", 3)[2:]))
PY
}

ctl() { python3 "$work/ctl.py" "$work/control.sock" "$@"; }

json() { ctl "$1" | cut -d' ' -f2- | python3 -c "import json,sys; d=json.load(sys.stdin); print($2)"; }

offloaded() {
  ctl list | cut -d' ' -f2- | python3 -c '
import json, sys
s = [x for x in json.load(sys.stdin)["sessions"] if len(sys.argv) < 2 or x["switchboard"] == sys.argv[1]]
flags = [st["offloaded"] for x in s for side in x["sides"] for st in side["streams"]]
print("true" if flags and all(flags) else "false")' "$@"
}

wait_for() {
  local until=$((SECONDS + $1))
  while [ $SECONDS -lt $until ]; do eval "$2" && return 0; sleep 0.1; done
  return 1
}

fails=0
check() {
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; fails=$((fails + 1)); fi
}

is() { [ "$1" = "$2" ] || { echo "     got '$1', want '$2'"; return 1; }; }

traffic() {
  local n=$1 m=$(( $1 / 5 ))
  begin
  endpoint "$caller" 203.0.113.50 5555 192.0.2.10 "$pa" "$n"
  endpoint "$caller" 203.0.113.50 5556 192.0.2.10 $((pa + 1)) "$m"
  endpoint "$callee" 198.51.100.2 6000 192.0.2.11 "$pb" "$n"
  endpoint "$callee" 198.51.100.2 6001 192.0.2.11 $((pb + 1)) "$m"
  run
}
