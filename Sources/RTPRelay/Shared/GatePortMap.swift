import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// One gate of one switchboard as shared-socket mode steers it: every port from `firstPort` to
/// `lastPort` of `address` belongs to the switchboard's sessions, session *k* owning
/// `firstPort + 2k` (RTP) and the port above (RTCP).
public struct GatePortRange: Hashable, Sendable {
    /// The gate's address.
    public var address: IPAddress
    /// RTP port of session 0.
    public var firstPort: UInt16
    /// RTCP port of the last session.
    public var lastPort: UInt16
    /// Global index of session 0 (`SessionLayout.bases`): the session of port p is
    /// `base + (p - firstPort) / 2`.
    public var base: Int
    /// The switchboard's index in `SwitchboardSet.all`.
    public var switchboard: Int
    /// Which gate of the switchboard.
    public var side: GateSide

    /// Creates a range.
    public init(address: IPAddress, firstPort: UInt16, lastPort: UInt16, base: Int, switchboard: Int, side: GateSide) {
        self.address = address
        self.firstPort = firstPort
        self.lastPort = lastPort
        self.base = base
        self.switchboard = switchboard
        self.side = side
    }

    /// True for an IPv6 gate.
    public var isV6: Bool { if case .v6 = address { return true } else { return false } }
}

/// Where a packet that arrived on a shared socket belongs: from its destination (the gate address
/// and port, read from IP_ORIGDSTADDR) to the leg of its session. Also tells the relay's own
/// address and port of every leg for sending. Pure arithmetic over a few ranges, fixed when the
/// engine starts; the same arithmetic as the sk_lookup program (bpf/iptrtpproxy_sklookup.bpf.c).
struct GatePortMap: Sendable {
    /// The ranges, in switchboard order, gate A then B.
    let ranges: [GatePortRange]
    /// `ranges` as the forwarding loop compares them: address (port 0), first and last port.
    private let hosts: [PeerAddress]
    private let firsts: [Int]
    private let lasts: [Int]

    /// The ranges of every switchboard's two gates, with the global indexes of `layout`.
    init(switchboards: SwitchboardSet, layout: SessionLayout) {
        var ranges: [GatePortRange] = []
        for (s, sw) in switchboards.all.enumerated() where sw.maxSessions > 0 {
            for side in GateSide.allCases {
                let gate = sw.gate(side)
                ranges.append(GatePortRange(
                    address: gate.address, firstPort: gate.basePort,
                    lastPort: UInt16(truncatingIfNeeded: Int(gate.basePort) + 2 * sw.maxSessions - 1),
                    base: layout.bases[s], switchboard: s, side: side))
            }
        }
        self.ranges = ranges
        hosts = ranges.map { PeerAddress(host: $0.address) }
        firsts = ranges.map { Int($0.firstPort) }
        lasts = ranges.map { Int($0.lastPort) }
    }

    /// The range holding `destination` (a gate address and port) and the port's offset in it;
    /// nil when no range does.
    @inline(__always)
    func range(of destination: PeerAddress) -> (range: Int, offset: Int)? {
        let port = Int(destination.port)
        for r in 0..<hosts.count where port >= firsts[r] && port <= lasts[r] && destination.sameHost(hosts[r]) {
            return (r, port - firsts[r])
        }
        return nil
    }

    /// The leg of port `offset` of range `r`: its session's global index, its gate and its stream
    /// (0 RTP, 1 RTCP).
    @inline(__always)
    func leg(range r: Int, offset: Int) -> (global: Int, side: GateSide, stream: Int) {
        (ranges[r].base + offset >> 1, ranges[r].side, offset & 1)
    }

    /// The relay's endpoint of port `offset` of range `r`. Ranges come in pairs (gate A at an
    /// even index, gate B after it), so `r ^ 1` is the other gate of the same session.
    @inline(__always)
    func gate(range r: Int, offset: Int) -> PeerAddress {
        var endpoint = hosts[r]
        endpoint.port = UInt16(truncatingIfNeeded: firsts[r] + offset)
        return endpoint
    }

    /// Why shared-socket mode cannot serve these gates, or nil: a gate on the unspecified
    /// address (0.0.0.0, ::) has no address to send from, and ranges that share ports would be
    /// ambiguous.
    var refusal: String? {
        for r in ranges where r.address.isUnspecified {
            return "gate \(r.address) of a switchboard is the unspecified address; shared sockets need the gate's own address"
        }
        for (i, a) in ranges.enumerated() {
            for b in ranges[(i + 1)...] where a.address == b.address && a.firstPort <= b.lastPort && b.firstPort <= a.lastPort {
                return "gates \(a.address) ports \(a.firstPort)-\(a.lastPort) and \(b.firstPort)-\(b.lastPort) overlap"
            }
        }
        return nil
    }
}
