import IPTRTPProxyCore

/// One direction of a stream as the XDP program's maps `ipt_streams4` / `ipt_streams6` hold it:
/// the bytes of `struct ipt_xdp_key4` / `ipt_xdp_key6` and `struct ipt_xdp_target`
/// (bpf/iptrtpproxy_xdp.bpf.c), built and read here without any I/O so that the layout is tested
/// on its own.
///
/// Key, laid out as the packet carries it (the program looks up the packet's own bytes): the
/// client's address, the gate's address, the client's port, the gate's port, network order;
/// 12 bytes for IPv4, 36 for IPv6.
/// Target (80 bytes): the other gate's address, the other client's address, their ports, 4 bytes
/// padding, packets and bytes forwarded (native order, written by the program), then the
/// program's own route cache (zero when written by the relay).
public struct XDPStreamEntry: Hashable, Sendable {
    /// Size of `struct ipt_xdp_key4`.
    public static let keySize4 = 12
    /// Size of `struct ipt_xdp_key6`.
    public static let keySize6 = 36
    /// The map of IPv4 directions.
    public static let map4 = "ipt_streams4"
    /// The map of IPv6 directions.
    public static let map6 = "ipt_streams6"
    /// Size of `struct ipt_xdp_target`.
    public static let targetSize = 80
    /// Offset of `packets` in the target; `bytes` follows.
    static let packetsOffset = 40

    /// What arrives: from the latched client to the relay's gate port.
    public var arrival: KernelLeg
    /// Where it leaves: from the other gate port to the other client.
    public var departure: KernelLeg

    /// Creates the entry for packets from `arrival.peer` to `arrival.relay`, sent from
    /// `departure.relay` to `departure.peer`.
    public init(arrival: KernelLeg, departure: KernelLeg) {
        self.arrival = arrival
        self.departure = departure
    }

    /// The two directions of `stream`: A's client → gate A leaves gate B to B's client, and back.
    /// Throws when the families differ (an IPv4 packet cannot leave as IPv6 without growing).
    public static func directions(of stream: KernelStream) throws -> [XDPStreamEntry] {
        let family = stream.a.relay.address.isV4
        for e in [stream.a.peer, stream.b.relay, stream.b.peer] where e.address.isV4 != family {
            throw KernelOffloadError("XDP: \(stream) mixes IPv4 and IPv6; forwarded in user space")
        }
        return [XDPStreamEntry(arrival: stream.a, departure: stream.b),
                XDPStreamEntry(arrival: stream.b, departure: stream.a)]
    }

    /// True when the entry belongs in `map4` (both of its legs are IPv4: `directions` checks).
    public var isV4: Bool { arrival.relay.address.isV4 }

    /// The name of the map the entry belongs in.
    public var map: String { isV4 ? Self.map4 : Self.map6 }

    /// The key's bytes.
    public var key: [UInt8] {
        let addressSize = isV4 ? 4 : 16
        var bytes = [UInt8](repeating: 0, count: isV4 ? Self.keySize4 : Self.keySize6)
        Self.put(address: arrival.peer.address, into: &bytes, at: 0)
        Self.put(address: arrival.relay.address, into: &bytes, at: addressSize)
        Self.put(port: arrival.peer.port, into: &bytes, at: 2 * addressSize)
        Self.put(port: arrival.relay.port, into: &bytes, at: 2 * addressSize + 2)
        return bytes
    }

    /// The target's bytes as the relay writes them: counters and route cache zero.
    public var target: [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.targetSize)
        Self.put(address: departure.relay.address, into: &bytes, at: 0)
        Self.put(address: departure.peer.address, into: &bytes, at: 16)
        Self.put(port: departure.relay.port, into: &bytes, at: 32)
        Self.put(port: departure.peer.port, into: &bytes, at: 34)
        return bytes
    }

    /// Positions in the program's fast index (`IPT_XDP_INDEX_SIZE`).
    public static let indexSize = 1 << 17
    /// The array of IPv4 slots, and of IPv6 ones, of the fast index.
    public static let slots4 = "ipt_slots4", slots6 = "ipt_slots6"
    /// The fast index's arrays of slot numbers.
    public static let index4 = "ipt_index4", index6 = "ipt_index6"

    /// Where the target starts in a slot (`struct ipt_xdp_slot4` / `ipt_xdp_slot6`): after the
    /// key and 4 bytes of padding.
    static func targetOffsetInSlot(v4: Bool) -> Int { (v4 ? keySize4 : keySize6) + 4 }
    /// Size of a slot: the key, the padding, the target.
    static func slotSize(v4: Bool) -> Int { targetOffsetInSlot(v4: v4) + targetSize }

    /// The slot's bytes: key, padding, target.
    public var slot: [UInt8] {
        key + [UInt8](repeating: 0, count: Self.targetOffsetInSlot(v4: isV4) - key.count) + target
    }

    /// The direction's position in the program's fast index (`index_position` in
    /// bpf/iptrtpproxy_xdp.bpf.c): the gate's port as the packet carries it, XORed with 17 bits
    /// of a multiplicative hash of the gate's address (IPv4) or of its last four bytes (IPv6),
    /// both loaded in this host's byte order as the program loads them. The ports of one gate
    /// address never share a position.
    public var indexPosition: Int {
        let key = self.key
        let addressEnd = isV4 ? 8 : 32   // where the gate's address ends in the key; its port follows the client's
        let (word, port) = key.withUnsafeBytes { bytes in
            (bytes.loadUnaligned(fromByteOffset: addressEnd - 4, as: UInt32.self),
             bytes.loadUnaligned(fromByteOffset: addressEnd + 2, as: UInt16.self))
        }
        return Int(((word &* 0x9E37_79B1) >> 15 ^ UInt32(port)) & UInt32(Self.indexSize - 1))
    }

    /// The packets and bytes a target's bytes (read back from the map) say were forwarded.
    public static func counter(fromTarget bytes: [UInt8]) -> KernelCounter {
        precondition(bytes.count >= packetsOffset + 16, "an XDP target has \(targetSize) bytes")
        // Written by the program in the host's byte order.
        func native64(_ at: Int) -> UInt64 { bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self) } }
        return KernelCounter(packets: native64(packetsOffset), bytes: native64(packetsOffset + 8))
    }

    private static func put(port: UInt16, into bytes: inout [UInt8], at offset: Int) {
        bytes[offset] = UInt8(port >> 8)
        bytes[offset + 1] = UInt8(port & 0xff)
    }

    private static func put(address: IPAddress, into bytes: inout [UInt8], at offset: Int) {
        switch address {
        case .v4(let a):
            for i in 0..<4 { bytes[offset + i] = UInt8(truncatingIfNeeded: a >> (8 * (3 - UInt32(i)))) }
        case .v6(let a):
            for (i, b) in a.bytes.enumerated() { bytes[offset + i] = b }
        }
    }
}

extension IPAddress {
    /// True for IPv4.
    var isV4: Bool {
        if case .v4 = self { return true }
        return false
    }
}
