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
