import IPTRTPProxyCore

/// One side of a relayed stream as the kernel sees it: the relay's own address and port on that
/// gate, and the client the relay latched there.
public struct KernelLeg: Hashable, Sendable, CustomStringConvertible {
    /// The gate's address and the relay port of this stream on that gate.
    public var relay: Endpoint
    /// The client's real (learned) source, where the other side's packets are sent.
    public var peer: Endpoint

    /// Creates a leg.
    public init(relay: Endpoint, peer: Endpoint) {
        self.relay = relay
        self.peer = peer
    }

    /// `peer⇄relay`.
    public var description: String { "\(peer)⇄\(relay)" }
}

/// One media stream (RTP or RTCP) of a session between two clients: what arrives at `a.relay` from
/// `a.peer` leaves from `b.relay` to `b.peer`, and the other way round. Anything else arriving at
/// the two relay ports (another source, an unknown port) is left for the userspace relay.
public struct KernelStream: Hashable, Sendable, CustomStringConvertible {
    /// The side of gate A.
    public var a: KernelLeg
    /// The side of gate B.
    public var b: KernelLeg

    /// Creates a stream.
    public init(a: KernelLeg, b: KernelLeg) {
        self.a = a
        self.b = b
    }

    /// `peerA⇄relayA | relayB⇄peerB`.
    public var description: String { "\(a.peer)⇄\(a.relay) | \(b.relay)⇄\(b.peer)" }
}

/// Packets and bytes the kernel has forwarded for one direction of a stream (what arrived at one
/// relay endpoint from its latched client) since the stream was installed or last re-pointed.
public struct KernelCounter: Hashable, Sendable {
    /// Packets forwarded.
    public var packets: UInt64
    /// Bytes forwarded (IP packet lengths).
    public var bytes: UInt64

    /// Creates a counter value.
    public init(packets: UInt64, bytes: UInt64) {
        self.packets = packets
        self.bytes = bytes
    }
}

/// How the kernel reaches a client: the interface it sends on and the next hop there (the client
/// itself on a connected network, else the gateway), as the routing table said when the stream
/// was installed.
public struct KernelRoute: Hashable, Sendable, CustomStringConvertible {
    /// The output interface's index.
    public var interface: UInt32
    /// The neighbour the packet is handed to.
    public var nextHop: IPAddress

    /// Creates a route.
    public init(interface: UInt32, nextHop: IPAddress) {
        self.interface = interface
        self.nextHop = nextHop
    }

    /// `via NEXTHOP dev #INDEX`.
    public var description: String { "via \(nextHop) dev #\(interface)" }
}
