/// The maps of the offload table: the spec's stateless rewrite (kernel-forwarding.md, b1′), keyed
/// so that it is also the latch check and serves gates that share port numbers.
///
/// In prerouting, a packet's `ip daddr . udp dport . ip saddr . udp sport` (relay address and port,
/// client address and port) is the key of three maps, which give its new destination address,
/// destination port and source port. A packet from a source the relay did not latch, or to a port
/// with no stream in the kernel, matches nothing and reaches the userspace relay's socket. The new
/// source address (the other gate's) is set in forward, where setting it is allowed, from a map
/// keyed by what the packet looks like then: `ip daddr . udp dport . udp sport`.
enum OffloadMap: CaseIterable, Hashable {
    /// Arrival 4-tuple → address of the client on the other side; each element counts its packets.
    case destinationAddress
    /// Arrival 4-tuple → the other gate's relay port, the forwarded packet's source port.
    case sourcePort
    /// Arrival 4-tuple → port of the client on the other side.
    case destinationPort
    /// Forwarded packet's `daddr . dport . sport` → the other gate's address, its new source.
    case sourceAddress

    /// The name in the table (`nft list table ip iptrtpproxy` shows it).
    var name: String {
        switch self {
        case .destinationAddress: return "daddr_of"
        case .sourcePort: return "sport_of"
        case .destinationPort: return "dport_of"
        case .sourceAddress: return "saddr_of"
        }
    }

    /// Names the map for the rules created in the same transaction.
    var setID: UInt32 {
        switch self {
        case .destinationAddress: return 1
        case .sourcePort: return 2
        case .destinationPort: return 3
        case .sourceAddress: return 4
        }
    }

    /// The fields of a key: `ipv4_addr` or `inet_service`.
    enum Field: Hashable {
        case address, port

        /// nft's datatype number.
        var nftType: UInt32 { self == .address ? 7 : 13 }
        /// Bytes of the value itself.
        var length: Int { self == .address ? 4 : 2 }
    }

    /// The key's fields, in order.
    var key: [Field] {
        switch self {
        case .destinationAddress, .sourcePort, .destinationPort: return [.address, .port, .address, .port]
        case .sourceAddress: return [.address, .port, .port]
        }
    }

    /// What the map gives.
    var data: Field {
        switch self {
        case .destinationAddress, .sourceAddress: return .address
        case .sourcePort, .destinationPort: return .port
        }
    }

    /// Each element carries a packet counter (idle detection reads it).
    var counted: Bool { self == .destinationAddress }

    /// Bytes of a key: a concatenation gives each field its own 32-bit register.
    var keyLength: Int { key.count * 4 }

    /// The key's datatype as nft numbers a concatenation: the fields' numbers, 6 bits apart.
    var keyType: UInt32 { key.reduce(0) { $0 << 6 | $1.nftType } }
}
