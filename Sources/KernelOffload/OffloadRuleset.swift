import CIPTRTPProxyNFT

/// The fixed ruleset of the offload table: its two maps and two chains. Streams come and go as
/// map elements only (`StreamElements`); the rules never change while the relay runs.
///
/// What `nft list table ip iptrtpproxy` shows, in nft's words (nft prints the one lookup as one
/// per rewritten field, but the rule looks up once and writes from the registers):
/// ```
/// chain pre { type filter hook prerouting priority raw; policy accept;
///   meta l4proto udp  udp checksum != 0
///   ip daddr . udp sport . udp dport set  ip daddr . udp dport . ip saddr . udp sport map @arrival
///   notrack }
/// chain out { type filter hook forward priority filter; policy accept;
///   meta l4proto udp  ip saddr set ip daddr . udp dport . udp sport map @departure }
/// ```
enum OffloadRuleset {
    /// Prerouting at raw priority: before conntrack, so that `notrack` keeps relayed packets out of it.
    static let preroutingPriority: Int32 = -300
    /// Forward at filter priority.
    static let forwardPriority: Int32 = 0

    /// Adds the table, its maps and its chains to `tx`, replacing a table of that name left by an
    /// earlier run (add + delete + add in one transaction: no error whether or not it existed).
    static func install(table: String, in tx: NetlinkTransaction) {
        tx.addTable(table)
        tx.deleteTable(table)
        tx.addTable(table)
        for map in OffloadMap.allCases { tx.addMap(table, map) }
        tx.addBaseChain(table, "pre", hook: UInt32(IPT_NFT_HOOK_PREROUTING), priority: preroutingPriority)
        tx.addBaseChain(table, "out", hook: UInt32(IPT_NFT_HOOK_FORWARD), priority: forwardPriority)
        tx.addRule(table, "pre", arrivalRule())
        tx.addRule(table, "out", departureRule())
    }

    /// 32-bit registers: a key in 0–3, a map's data from 4 on (each field in its own register).
    private static let key = RuleBuilder.register(0)
    private static let data = RuleBuilder.register(4)

    // IPv4 header: source address at 12, destination at 16, header checksum at 10.
    // UDP header: source port at 0, destination port at 2, checksum at 6.

    /// A packet from a latched client to a relay port: one lookup (a missing key stops the rule,
    /// and the packet goes on to the relay's socket), then the three rewrites.
    static func arrivalRule() -> RuleBuilder {
        let r = RuleBuilder()
        r.requireUDP()
        r.requireUDPChecksum()
        r.load(.network, offset: 16, length: 4, into: key)
        r.load(.transport, offset: 2, length: 2, into: key + 1)
        r.load(.network, offset: 12, length: 4, into: key + 2)
        r.load(.transport, offset: 0, length: 2, into: key + 3)
        r.lookup(.arrival, key: key, into: data)
        r.write(.network, offset: 16, length: 4, from: data, checksumOffset: 10, pseudoHeader: true)
        r.write(.transport, offset: 0, length: 2, from: data + 1, checksumOffset: 6, pseudoHeader: false)
        r.write(.transport, offset: 2, length: 2, from: data + 2, checksumOffset: 6, pseudoHeader: false)
        r.notrack()
        return r
    }

    /// A relayed packet on its way out gets the other gate's address as its source. (In prerouting
    /// a local source address would get it dropped as martian.)
    static func departureRule() -> RuleBuilder {
        let r = RuleBuilder()
        r.requireUDP()
        r.load(.network, offset: 16, length: 4, into: key)
        r.load(.transport, offset: 2, length: 2, into: key + 1)
        r.load(.transport, offset: 0, length: 2, into: key + 2)
        r.lookup(.departure, key: key, into: data)
        r.write(.network, offset: 12, length: 4, from: data, checksumOffset: 10, pseudoHeader: true)
        return r
    }
}
