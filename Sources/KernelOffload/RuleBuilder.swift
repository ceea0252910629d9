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

    /// Stops the rule unless the packet is IPv4 (a netdev chain sees every protocol) and UDP: the
    /// link-layer protocol and the IP protocol loaded side by side, compared at once (each
    /// expression costs time on every packet).
    @discardableResult
    func requireIPv4UDP() -> RuleBuilder {
        // Each load fills its 32-bit register, zero-padded: 0x0800 (ETH_P_IP), then 17 (UDP).
        var expected: [UInt8] = [0x08, 0x00, 0, 0, 17, 0, 0, 0]
        _ = record(ipt_nft_rule_meta_load(raw, NFT_META_PROTOCOL.rawValue, Self.register(0)))
        _ = record(ipt_nft_rule_meta_load(raw, NFT_META_L4PROTO.rawValue, Self.register(1)))
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

    /// Stops the rule for a fragment: the kernel path forwards whole datagrams only (a first
    /// fragment would leave without the rest, which go up to the host and are never completed).
    @discardableResult
    func requireWholeDatagram() -> RuleBuilder {
        // Bytes 4-7 of the IPv4 header: identification, then flags and fragment offset. MF and
        // the offset (mask 0x3fff) are 0 in a whole datagram.
        var mask: [UInt8] = [0, 0, 0x3f, 0xff], zero: [UInt8] = [0, 0, 0, 0]
        _ = record(ipt_nft_rule_payload_load(raw, Header.network.base, 4, 4, Self.register(0)))
        _ = record(ipt_nft_rule_bitwise(raw, Self.register(0), Self.register(0), &mask, &zero, 4))
        return record(ipt_nft_rule_cmp(raw, Self.register(0), NFT_CMP_EQ.rawValue, &zero, 4))
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
