import Glibc
import CIPTRTPProxyNFT

/// A rule being written, one nf_tables expression per call (libnftnl's rule and expression
/// objects). Registers are numbered as nf_tables does: `NFT_REG32_00` + n is the n-th 32-bit
/// register. A failure to allocate is kept and reported when the rule is added to a batch.
final class RuleBuilder {
    /// The libnftnl rule; nil when it could not be allocated.
    let raw: OpaquePointer?
    /// errno of the first expression that could not be added (0: none).
    private(set) var failure: Int32 = 0

    init() {
        raw = nftnl_rule_alloc()
    }

    deinit { if let raw { nftnl_rule_free(raw) } }

    /// The n-th 32-bit register.
    static func register(_ n: UInt32) -> UInt32 { NFT_REG32_00.rawValue + n }

    /// Adds expression `name`, its attributes set by `configure`; the rule takes it over.
    @discardableResult
    private func expression(_ name: String, _ configure: (OpaquePointer) -> Void) -> RuleBuilder {
        guard let raw, let e = nftnl_expr_alloc(name) else {
            if failure == 0 { failure = ENOMEM }
            return self
        }
        configure(e)
        nftnl_rule_add_expr(raw, e)
        return self
    }

    /// Where a payload field lies.
    enum Header {
        case network, transport
        var base: UInt32 {
            self == .network ? NFT_PAYLOAD_NETWORK_HEADER.rawValue : NFT_PAYLOAD_TRANSPORT_HEADER.rawValue
        }
    }

    /// `payload load length @ header + offset => register`.
    @discardableResult
    func load(_ header: Header, offset: UInt32, length: UInt32, into register: UInt32) -> RuleBuilder {
        expression("payload") { e in
            set(e, NFTNL_EXPR_PAYLOAD_BASE, header.base)
            set(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset)
            set(e, NFTNL_EXPR_PAYLOAD_LEN, length)
            set(e, NFTNL_EXPR_PAYLOAD_DREG, register)
        }
    }

    /// Writes a field and fixes the packet's checksum at `checksumOffset` in the same header
    /// (`pseudoHeader`: the field is part of the UDP pseudo-header, so the UDP checksum changes too).
    @discardableResult
    func write(_ header: Header, offset: UInt32, length: UInt32, from register: UInt32,
               checksumOffset: UInt32, pseudoHeader: Bool) -> RuleBuilder {
        expression("payload") { e in
            set(e, NFTNL_EXPR_PAYLOAD_SREG, register)
            set(e, NFTNL_EXPR_PAYLOAD_BASE, header.base)
            set(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset)
            set(e, NFTNL_EXPR_PAYLOAD_LEN, length)
            set(e, NFTNL_EXPR_PAYLOAD_CSUM_TYPE, NFT_PAYLOAD_CSUM_INET.rawValue)
            set(e, NFTNL_EXPR_PAYLOAD_CSUM_OFFSET, checksumOffset)
            set(e, NFTNL_EXPR_PAYLOAD_FLAGS, pseudoHeader ? NFT_PAYLOAD_L4CSUM_PSEUDOHDR.rawValue : 0)
        }
    }

    /// Stops the rule unless the packet is a whole IPv4 UDP datagram: IPv4 (a netdev chain sees
    /// every protocol), UDP, and not a fragment (the kernel path forwards whole datagrams only: a
    /// first fragment would leave without the rest, which go up to the host and never complete).
    /// The link-layer protocol and IPv4 header bytes 6-9 (flags and fragment offset, TTL,
    /// protocol) are loaded side by side, masked and compared at once: every expression costs
    /// time on every packet.
    @discardableResult
    func requireWholeIPv4UDP() -> RuleBuilder {
        // Register 0: 0x0800 (ETH_P_IP), zero-padded. Register 1: MF and the fragment offset
        // (mask 0x3fff) 0, any TTL, protocol 17.
        let mask: [UInt8] = [0xff, 0xff, 0, 0, 0x3f, 0xff, 0, 0xff], zero = [UInt8](repeating: 0, count: 8)
        let expected: [UInt8] = [0x08, 0x00, 0, 0, 0, 0, 0, 17]
        expression("meta") { e in
            set(e, NFTNL_EXPR_META_KEY, NFT_META_PROTOCOL.rawValue)
            set(e, NFTNL_EXPR_META_DREG, Self.register(0))
        }
        load(.network, offset: 6, length: 4, into: Self.register(1))
        expression("bitwise") { e in
            set(e, NFTNL_EXPR_BITWISE_SREG, Self.register(0))
            set(e, NFTNL_EXPR_BITWISE_DREG, Self.register(0))
            set(e, NFTNL_EXPR_BITWISE_LEN, UInt32(mask.count))
            set(e, NFTNL_EXPR_BITWISE_MASK, mask)
            set(e, NFTNL_EXPR_BITWISE_XOR, zero)
        }
        return expression("cmp") { e in
            set(e, NFTNL_EXPR_CMP_SREG, Self.register(0))
            set(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ.rawValue)
            set(e, NFTNL_EXPR_CMP_DATA, expected)
        }
    }

    /// Writes the UDP source and destination ports (4 bytes) and fixes the UDP checksum the way
    /// nf_tables fixes it for a pseudo-header field: that path leaves a datagram sent without a
    /// checksum (0) without one, where a plain checksum update would turn "none" into a wrong
    /// value. Its second, plain update is aimed at the source port itself (offset 0), which the
    /// write then overwrites.
    @discardableResult
    func writeUDPPorts(from register: UInt32) -> RuleBuilder {
        write(.transport, offset: 0, length: 4, from: register, checksumOffset: 0, pseudoHeader: true)
    }

    /// Looks the key starting at `key` up in `map`, loading the element's data into `result`; the
    /// rule stops when the key is absent.
    @discardableResult
    func lookup(_ map: OffloadMap, key: UInt32, into result: UInt32) -> RuleBuilder {
        expression("lookup") { e in
            set(e, NFTNL_EXPR_LOOKUP_SREG, key)
            nftnl_expr_set_str(e, UInt16(NFTNL_EXPR_LOOKUP_SET), map.name)
            set(e, NFTNL_EXPR_LOOKUP_SET_ID, map.setID)
            set(e, NFTNL_EXPR_LOOKUP_DREG, result)
        }
    }

    /// Sends the packet out of the interface whose index is in `interface` to the IPv4 next hop in
    /// `nextHop` (netdev ingress only: the neighbour layer resolves the address, the TTL is
    /// decremented); the rule (and the packet's way through this host) ends here.
    @discardableResult
    func forward(interface: UInt32, nextHop: UInt32) -> RuleBuilder {
        expression("fwd") { e in
            set(e, NFTNL_EXPR_FWD_SREG_DEV, interface)
            set(e, NFTNL_EXPR_FWD_SREG_ADDR, nextHop)
            set(e, NFTNL_EXPR_FWD_NFPROTO, UInt32(IPT_NFT_FAMILY_IPV4))
        }
    }
}

/// Sets a 32-bit attribute of an expression (libnftnl numbers them in anonymous enums).
private func set(_ e: OpaquePointer, _ attribute: Int, _ value: UInt32) {
    nftnl_expr_set_u32(e, UInt16(attribute), value)
}

/// Sets a byte-string attribute of an expression; libnftnl copies it.
private func set(_ e: OpaquePointer, _ attribute: Int, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { _ = nftnl_expr_set(e, UInt16(attribute), $0.baseAddress, UInt32($0.count)) }
}
