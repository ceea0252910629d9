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

    /// Stops the rule unless the packet is UDP.
    @discardableResult
    func requireUDP() -> RuleBuilder {
        var udp: UInt8 = 17
        _ = record(ipt_nft_rule_meta_load(raw, NFT_META_L4PROTO.rawValue, Self.register(0)))
        return record(ipt_nft_rule_cmp(raw, Self.register(0), NFT_CMP_EQ.rawValue, &udp, 1))
    }

    /// Stops the rule when the UDP checksum is 0 (sent without one): rewriting the ports updates
    /// the checksum field incrementally, which would turn "none" into a wrong one.
    @discardableResult
    func requireUDPChecksum() -> RuleBuilder {
        var zero: UInt16 = 0
        _ = record(ipt_nft_rule_payload_load(raw, Header.transport.base, 6, 2, Self.register(0)))
        return record(ipt_nft_rule_cmp(raw, Self.register(0), NFT_CMP_NEQ.rawValue, &zero, 2))
    }

    /// Looks the key starting at `key` up in `map`, loading the element's data into `result`; the
    /// rule stops when the key is absent.
    @discardableResult
    func lookup(_ map: OffloadMap, key: UInt32, into result: UInt32) -> RuleBuilder {
        record(ipt_nft_rule_lookup(raw, key, map.name, map.setID, Int32(result)))
    }

    /// Conntrack leaves the packet alone.
    @discardableResult
    func notrack() -> RuleBuilder { record(ipt_nft_rule_notrack(raw)) }
}
