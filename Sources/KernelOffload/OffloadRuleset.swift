import CIPTRTPProxyNFT

/// The fixed ruleset of the offload table: its map and one chain on the ingress of the relay's
/// interfaces. Streams come and go as map elements only (`StreamElements`); the rule never changes
/// while the relay runs.
///
/// What `nft list table netdev iptrtpproxy` shows, in nft's words (nft prints the one lookup as
/// one per rewritten field and warns that it cannot name the result; the kernel runs it as built):
/// ```
/// chain in { type filter hook ingress devices = { eth0, eth1 } priority filter; policy accept;
///   meta protocol . ip frag-off, ttl, protocol masked == ip . (not a fragment, udp)
///   ip saddr . ip daddr . udp sport . udp dport set  ip daddr . udp dport . ip saddr . udp sport map @arrival
///   fwd ip to (next hop from @arrival) device (interface from @arrival) }
/// ```
enum OffloadRuleset {
    /// Ingress at filter priority: after any ingress chain of a host firewall at a lower priority.
    static let ingressPriority: Int32 = 0

    /// Adds the table, its map and its chain hooked on `interfaces` to `tx`, replacing a table of
    /// that name left by an earlier run (add + delete + add in one transaction: no error whether or
    /// not it existed).
    static func install(table: String, interfaces: [String], in tx: NetlinkTransaction) {
        tx.addTable(table)
        tx.deleteTable(table)
        tx.addTable(table)
        for map in OffloadMap.allCases { tx.addMap(table, map) }
        tx.addIngressChain(table, "in", priority: ingressPriority, interfaces: interfaces)
        tx.addRule(table, "in", arrivalRule())
    }

    /// 32-bit registers: a key in 0–3, the map's data from 4 on (each field in its own register).
    private static let key = RuleBuilder.register(0)
    private static let data = RuleBuilder.register(4)

    // IPv4 header: flags and fragment offset at 6, protocol at 9, header checksum at 10, source
    // at 12, destination at 16.
    // UDP header: source port at 0, destination port at 2, checksum at 6.

    /// A whole UDP datagram from a latched client to a relay port: one lookup (a missing key stops
    /// the rule, and the packet goes on to the relay's socket), two writes (both addresses, both
    /// ports; checksums fixed incrementally, a datagram without UDP checksum left without), then
    /// out to the next hop. Every expression is paid on every packet: this is the fewest found.
    static func arrivalRule() -> RuleBuilder {
        let r = RuleBuilder()
        r.requireWholeIPv4UDP()
        r.load(.network, offset: 16, length: 4, into: key)
        r.load(.transport, offset: 2, length: 2, into: key + 1)
        r.load(.network, offset: 12, length: 4, into: key + 2)
        r.load(.transport, offset: 0, length: 2, into: key + 3)
        r.lookup(.arrival, key: key, into: data)
        r.write(.network, offset: 12, length: 8, from: data, checksumOffset: 10, pseudoHeader: true)
        r.writeUDPPorts(from: data + 2)
        r.forward(interface: data + 3, nextHop: data + 4)
        return r
    }
}
