/// The two maps of the offload table: the spec's stateless rewrite (kernel-forwarding.md, b1′),
/// keyed so that the lookup is also the latch check and gates may share port numbers.
///
/// In prerouting, a packet's `ip daddr . udp dport . ip saddr . udp sport` (relay address and port,
/// client address and port) is looked up once in `arrival`, which gives its new destination
/// address, source port and destination port. A packet from a source the relay did not latch, or
/// to a port with no stream in the kernel, matches nothing and reaches the userspace relay's
/// socket. The new source address (the other gate's) is set in forward, where a local source
/// address is allowed, from `departure`, keyed by what the packet looks like then:
/// `ip daddr . udp dport . udp sport`.
enum OffloadMap: CaseIterable, Hashable {
    /// Arrival 4-tuple → the other client's address and port, and the other gate's port; each
    /// element counts its packets.
    case arrival
    /// Forwarded packet's `daddr . dport . sport` → the other gate's address, its new source.
    case departure

    /// The name in the table (`nft list table ip iptrtpproxy` shows it).
    var name: String {
        switch self {
        case .arrival: return "arrival"
        case .departure: return "departure"
        }
    }

    /// Names the map for the rules created in the same transaction.
    var setID: UInt32 {
        switch self {
        case .arrival: return 1
        case .departure: return 2
        }
    }

    /// The fields of keys and data: `ipv4_addr` or `inet_service`.
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
        case .arrival: return [.address, .port, .address, .port]
        case .departure: return [.address, .port, .port]
        }
    }

    /// The data's fields, in order.
    var data: [Field] {
        switch self {
        case .arrival: return [.address, .port, .port]
        case .departure: return [.address]
        }
    }

    /// Each element carries a packet counter (idle detection reads it).
    var counted: Bool { self == .arrival }

    /// Bytes of a key.
    var keyLength: Int { Self.length(key) }
    /// Bytes of a datum.
    var dataLength: Int { Self.length(data) }
    /// The key's datatype as nft numbers it.
    var keyType: UInt32 { Self.type(key) }
    /// The data's datatype as nft numbers it.
    var dataType: UInt32 { Self.type(data) }

    /// A concatenation gives each field its own 32-bit register; a single field is its own size.
    static func length(_ fields: [Field]) -> Int { fields.count == 1 ? fields[0].length : fields.count * 4 }

    /// nft numbers a concatenation by its fields' numbers, 6 bits apart.
    static func type(_ fields: [Field]) -> UInt32 { fields.reduce(0) { $0 << 6 | $1.nftType } }
}
