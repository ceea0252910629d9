import CIPTRTPProxyNFT

/// One netlink attribute (type, length, value): a field of a message, or a list of attributes
/// itself when nested.
struct NetlinkAttribute {
    /// The attribute's type, without the NLA_F_NESTED and NLA_F_NET_BYTEORDER flags.
    var type: UInt16
    /// The value, without header or padding.
    var payload: ArraySlice<UInt8>

    /// Bytes of an attribute header; the kernel's struct is its own aligned length (shim.c).
    static let headerLength = MemoryLayout<nlattr>.size

    /// The attributes in `bytes`, in order. Stops at the first malformed one (shorter than its
    /// header, or longer than what is left), as libmnl's `mnl_attr_ok` does.
    static func split(_ bytes: ArraySlice<UInt8>) -> [NetlinkAttribute] {
        var attributes: [NetlinkAttribute] = []
        var offset = bytes.startIndex
        while bytes.endIndex - offset >= headerLength {
            let header = bytes[offset...].withUnsafeBytes { $0.loadUnaligned(as: nlattr.self) }
            let length = Int(header.nla_len)
            guard length >= headerLength, length <= bytes.endIndex - offset else { break }
            attributes.append(NetlinkAttribute(type: header.nla_type & UInt16(IPT_NFT_ATTRIBUTE_TYPE_MASK),
                                               payload: bytes[offset + headerLength..<offset + length]))
            offset += Netlink.aligned(length)
        }
        return attributes
    }

    /// The attributes nested in this one.
    var nested: [NetlinkAttribute] { Self.split(payload) }

    /// A 32-bit value in host byte order; nil unless the value is exactly 4 bytes.
    var hostUInt32: UInt32? {
        guard payload.count == 4 else { return nil }
        return payload.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
    }

    /// A 64-bit value in network byte order (nf_tables' counters); nil unless exactly 8 bytes.
    var bigEndianUInt64: UInt64? {
        guard payload.count == 8 else { return nil }
        return payload.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// A NUL-terminated string (names); nil when the terminator is missing.
    var string: String? {
        guard let end = payload.firstIndex(of: 0) else { return nil }
        return String(decoding: payload[..<end], as: UTF8.self)
    }
}

extension Array where Element == NetlinkAttribute {
    /// The first attribute of `type` (nf_tables and rtnetlink enums are imported with raw values).
    func first<T: RawRepresentable>(_ type: T) -> NetlinkAttribute? where T.RawValue: BinaryInteger {
        first { $0.type == UInt16(type.rawValue) }
    }
}
