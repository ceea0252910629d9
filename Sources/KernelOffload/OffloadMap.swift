/// The one map of the offload table: the spec's stateless rewrite (kernel-forwarding.md, b2),
/// keyed so that the lookup is also the latch check and gates may share port numbers.
///
/// At ingress, a packet's `ip daddr . udp dport . ip saddr . udp sport` (relay address and port,
/// client address and port) is looked up once in `arrival`, which gives everything the packet
/// leaves with: its new source and destination addresses, its new ports, the interface and the
/// next hop to send it to. A packet from a source the relay did not latch, or to a port with no
/// stream in the kernel, matches nothing and goes on to the relay's socket.
enum OffloadMap: CaseIterable, Hashable {
    /// Arrival 4-tuple → the other gate's address, the other client's address, the other gate's
    /// port and the other client's port (one 32-bit word), the output interface and the next hop;
    /// each element counts its packets.
    case arrival

    /// The name in the table (`nft list table netdev iptrtpproxy` shows it).
    var name: String { "arrival" }

    /// Names the map for the rules created in the same transaction.
    var setID: UInt32 { 1 }

    /// The fields of keys and data.
    enum Field: Hashable {
        /// An IPv4 address (`ipv4_addr`).
        case address
        /// A port (`inet_service`).
        case port
        /// Source port then destination port, as they lie in the UDP header, so that one write
        /// sets both. nft has no type for two ports in one word; typed `ipv4_addr`, it shows the
        /// four bytes in order: 117.48.23.112 is 30000 (117·256 + 48) and 6000 (23·256 + 112).
        case portPair
        /// An interface index, in host byte order as nf_tables reads it (`iface_index`: nft shows
        /// the interface's name).
        case interface

        /// nft's datatype number.
        var nftType: UInt32 {
            switch self {
            case .address: return 7
            case .port: return 13
            case .portPair: return 7
            case .interface: return 20
            }
        }

        /// Bytes of the value itself.
        var length: Int { self == .port ? 2 : 4 }
    }

    /// The key's fields, in order.
    var key: [Field] { [.address, .port, .address, .port] }

    /// The data's fields, in order: new source and destination addresses (adjacent, as in the IP
    /// header, so that one write sets both), new ports, output interface, next hop.
    var data: [Field] { [.address, .address, .portPair, .interface, .address] }

    /// Each element carries a packet counter (idle detection reads it).
    var counted: Bool { true }

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
