import CIPTRTPProxyNFT

/// A rule being written, one nf_tables expression per call. Registers are numbered as nf_tables
/// does: `NFT_REG32_00` + n is the n-th 32-bit register.
final class RuleBuilder {
    let raw: OpaquePointer
    /// errno of the first expression that could not be added (0: none).
    private(set) var failure: Int32 = 0

    init() {
        raw = ipt_nft_rule_new()!
    }

    deinit { ipt_nft_rule_free(raw) }

    /// The n-th 32-bit register.
    static func register(_ n: UInt32) -> UInt32 { NFT_REG32_00.rawValue + n }

    private func record(_ result: Int32) -> RuleBuilder {
        if result < 0 && failure == 0 { failure = -result }
        return self
    }

    /// Where a payload field lies.
    enum Header {
        case network, transport
        var base: UInt32 {
            self == .network ? NFT_PAYLOAD_NETWORK_HEADER.rawValue : NFT_PAYLOAD_TRANSPORT_HEADER.rawValue
        }
    }

    @discardableResult
    func load(_ header: Header, offset: UInt32, length: UInt32, into register: UInt32) -> RuleBuilder {
        record(ipt_nft_rule_payload_load(raw, header.base, offset, length, register))
    }

    /// Writes a field and fixes the packet's checksum at `checksumOffset` in the same header
    /// (`pseudoHeader`: the field is part of the UDP pseudo-header, so the UDP checksum changes too).
    @discardableResult
    func write(_ header: Header, offset: UInt32, length: UInt32, from register: UInt32,
               checksumOffset: UInt32, pseudoHeader: Bool) -> RuleBuilder {
        record(ipt_nft_rule_payload_write(raw, register, header.base, offset, length,
                                          NFT_PAYLOAD_CSUM_INET.rawValue, checksumOffset,
                                          pseudoHeader ? NFT_PAYLOAD_L4CSUM_PSEUDOHDR.rawValue : 0))
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
        var mask: [UInt8] = [0xff, 0xff, 0, 0, 0x3f, 0xff, 0, 0xff], zero = [UInt8](repeating: 0, count: 8)
        var expected: [UInt8] = [0x08, 0x00, 0, 0, 0, 0, 0, 17]
        _ = record(ipt_nft_rule_meta_load(raw, NFT_META_PROTOCOL.rawValue, Self.register(0)))
        _ = record(ipt_nft_rule_payload_load(raw, Header.network.base, 6, 4, Self.register(1)))
        _ = record(ipt_nft_rule_bitwise(raw, Self.register(0), Self.register(0), &mask, &zero, 8))
        return record(ipt_nft_rule_cmp(raw, Self.register(0), NFT_CMP_EQ.rawValue, &expected, 8))
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
        record(ipt_nft_rule_lookup(raw, key, map.name, map.setID, Int32(result)))
    }

    /// Sends the packet out of the interface whose index is in `interface` to the IPv4 next hop in
    /// `nextHop`; the rule (and the packet's way through this host) ends here.
    @discardableResult
    func forward(interface: UInt32, nextHop: UInt32) -> RuleBuilder { record(ipt_nft_rule_fwd(raw, interface, nextHop)) }
}
