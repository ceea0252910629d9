/// An IPv4 or IPv6 address, parsed from and printed to its usual text form.
///
/// The core parses addresses itself (no `inet_pton`) so that it stays free of I/O and of Foundation,
/// and so that the parser can be fuzzed together with the SDP parser.
public enum IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// IPv4, host byte order (`192.0.2.1` is `0xC000_0201`).
    case v4(UInt32)
    /// IPv6, the 16 bytes in network order.
    case v6(IPv6Bytes)

    /// The 16 bytes of an IPv6 address, in network order.
    public struct IPv6Bytes: Hashable, Sendable {
        /// Bytes 0–7.
        public var high: UInt64
        /// Bytes 8–15.
        public var low: UInt64

        /// Builds the address from its 16 bytes in network order.
        public init(bytes: [UInt8]) {
            precondition(bytes.count == 16, "an IPv6 address has 16 bytes")
            var h: UInt64 = 0, l: UInt64 = 0
            for i in 0..<8 { h = h << 8 | UInt64(bytes[i]) }
            for i in 8..<16 { l = l << 8 | UInt64(bytes[i]) }
            high = h
            low = l
        }

        /// The 16 bytes in network order.
        public var bytes: [UInt8] {
            (0..<16).map { i in
                let word = i < 8 ? high : low
                return UInt8(truncatingIfNeeded: word >> (8 * (7 - UInt64(i % 8))))
            }
        }

        /// The eight 16-bit groups.
        var groups: [UInt16] {
            let b = bytes
            return (0..<8).map { UInt16(b[2 * $0]) << 8 | UInt16(b[2 * $0 + 1]) }
        }
    }

    /// Parses dotted-quad IPv4 (exactly four decimal parts, each 0–255) or RFC 4291 IPv6 text
    /// (with `::` compression and an optional trailing dotted quad). Returns nil otherwise.
    public init?(_ text: String) {
        self.init(utf8: Array(text.utf8)[...])
    }

    /// Parses an address from UTF-8 bytes; see `init?(_:)`.
    public init?(utf8 text: ArraySlice<UInt8>) {
        if text.contains(UInt8(ascii: ":")) {
            guard let bytes = IPAddress.parseV6(text) else { return nil }
            self = .v6(IPv6Bytes(bytes: bytes))
        } else {
            guard let v = IPAddress.parseV4(text) else { return nil }
            self = .v4(v)
        }
    }

    /// The address family as SDP names it: `IP4` or `IP6`.
    public var sdpAddressType: String {
        switch self {
        case .v4: return "IP4"
        case .v6: return "IP6"
        }
    }

    /// True for 0.0.0.0 and ::, the "no address" of SDP (RFC 3264 hold) and of the original module.
    public var isUnspecified: Bool {
        if let v4 = mappedV4 { return v4.isUnspecified }
        switch self {
        case .v4(let v): return v == 0
        case .v6(let b): return b.high == 0 && b.low == 0
        }
    }

    /// True for an IPv6 address (an IPv4-mapped one included: it travels on an IPv6 socket).
    public var isV6: Bool {
        if case .v6 = self { return true }
        return false
    }

    /// The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) stands for; a socket
    /// that sends there reaches that IPv4 host. Nil for any other address.
    public var mappedV4: IPAddress? {
        guard case .v6(let b) = self, b.high == 0, b.low >> 32 == 0xffff else { return nil }
        return .v4(UInt32(truncatingIfNeeded: b.low))
    }

    /// True for 127.0.0.0/8 and ::1 (and their IPv4-mapped form).
    public var isLoopback: Bool {
        if let v4 = mappedV4 { return v4.isLoopback }
        switch self {
        case .v4(let v): return v >> 24 == 127
        case .v6(let b): return b.high == 0 && b.low == 1
        }
    }

    /// True for 224.0.0.0/4 and ff00::/8 (and the IPv4-mapped form).
    public var isMulticast: Bool {
        if let v4 = mappedV4 { return v4.isMulticast }
        switch self {
        case .v4(let v): return v >> 28 == 0xe
        case .v6(let b): return b.high >> 56 == 0xff
        }
    }

    /// True for 255.255.255.255, the limited broadcast (and its IPv4-mapped form).
    public var isLimitedBroadcast: Bool {
        if let v4 = mappedV4 { return v4.isLimitedBroadcast }
        if case .v4(let v) = self { return v == 0xffff_ffff }
        return false
    }

    /// Usual text form: dotted quad, or RFC 5952 compressed IPv6.
    public var description: String {
        switch self {
        case .v4(let v):
            return "\(v >> 24).\(v >> 16 & 0xff).\(v >> 8 & 0xff).\(v & 0xff)"
        case .v6(let b):
            return IPAddress.formatV6(b.groups)
        }
    }

    static func parseV4(_ text: ArraySlice<UInt8>) -> UInt32? {
        var value: UInt32 = 0
        var parts = 0
        var current: UInt32 = 0
        var digits = 0
        for c in text {
            if c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") {
                current = current * 10 + UInt32(c - UInt8(ascii: "0"))
                digits += 1
                if digits > 3 || current > 255 { return nil }
            } else if c == UInt8(ascii: ".") {
                if digits == 0 || parts == 3 { return nil }
                value = value << 8 | current
                parts += 1
                current = 0
                digits = 0
            } else {
                return nil
            }
        }
        if digits == 0 || parts != 3 { return nil }
        return value << 8 | current
    }

    static func parseV6(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        if text.count < 2 || text.count > 45 { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawGap = false
        var i = text.startIndex
        let end = text.endIndex
        if text[i] == UInt8(ascii: ":") {
            guard text[i + 1] == UInt8(ascii: ":") else { return nil }
            sawGap = true
            i += 2
        }
        while i < end {
            // An embedded IPv4 address may end the text (::ffff:192.0.2.1).
            var j = i
            while j < end && text[j] != UInt8(ascii: ":") { j += 1 }
            let part = text[i..<j]
            if part.contains(UInt8(ascii: ".")) {
                guard j == end, let v4 = parseV4(part) else { return nil }
                let groups = [UInt16(v4 >> 16), UInt16(v4 & 0xffff)]
                if sawGap { tail += groups } else { head += groups }
                i = j
                break
            }
            guard !part.isEmpty, part.count <= 4 else { return nil }
            var g: UInt16 = 0
            for c in part {
                guard let d = hexValue(c) else { return nil }
                g = g << 4 | UInt16(d)
            }
            if sawGap { tail.append(g) } else { head.append(g) }
            i = j
            if i < end {
                // At a colon: either a separator or the start of "::".
                i += 1
                if i < end && text[i] == UInt8(ascii: ":") {
                    if sawGap { return nil }
                    sawGap = true
                    i += 1
                } else if i == end {
                    return nil
                }
            }
        }
        let count = head.count + tail.count
        if sawGap ? count > 7 : count != 8 { return nil }
        let groups = head + Array(repeating: 0, count: 8 - count) + tail
        var bytes: [UInt8] = []
        bytes.reserveCapacity(16)
        for g in groups { bytes.append(UInt8(g >> 8)); bytes.append(UInt8(g & 0xff)) }
        return bytes
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    static func formatV6(_ groups: [UInt16]) -> String {
        // RFC 5952: compress the longest run (length >= 2) of zero groups, the first if tied.
        var bestStart = -1, bestLen = 0
        var i = 0
        while i < 8 {
            if groups[i] == 0 {
                var j = i
                while j < 8 && groups[j] == 0 { j += 1 }
                if j - i > bestLen && j - i >= 2 { bestStart = i; bestLen = j - i }
                i = j
            } else {
                i += 1
            }
        }
        func hex(_ g: UInt16) -> String { String(g, radix: 16) }
        if bestStart < 0 { return groups.map(hex).joined(separator: ":") }
        let left = groups[..<bestStart].map(hex).joined(separator: ":")
        let right = groups[(bestStart + bestLen)...].map(hex).joined(separator: ":")
        return left + "::" + right
    }
}
