import IPTRTPProxyPOSIX

/// The IPv4 or IPv6 header and the UDP header a raw socket sends in front of a payload, with
/// their checksums: in shared-socket mode the relay sends from a gate's port without a socket
/// bound to it (`SharedSockets`), so it writes the headers itself. Pure: memory in, memory out.
///
/// The headers are written right before the payload, into headroom the caller keeps there
/// (`maximumLength` bytes), so a forwarded packet is never copied.
enum UDPDatagramHeader {
    /// IPv4 (20, no options) plus UDP (8).
    static let ipv4Length = 28
    /// IPv6 (40, no extension headers) plus UDP (8).
    static let ipv6Length = 48
    /// Headroom that fits either.
    static let maximumLength = 48
    /// TTL / hop limit of relayed packets (what a socket of the host would use by default).
    static let hopLimit: UInt8 = 64

    /// Writes the headers of a datagram from `source` to `destination` (same family) that ends
    /// with the `length` bytes at `payload`, immediately before it; returns the header length
    /// (the datagram starts at `payload - returned`). Returns 0 when the families differ or the
    /// datagram would exceed 65535 bytes.
    @inline(__always)
    static func write(from source: PeerAddress, to destination: PeerAddress, payload: UnsafeMutableRawPointer, length: Int) -> Int {
        guard source.family == destination.family else { return 0 }
        if source.isV6 {
            guard length <= 65535 - 8 else { return 0 }
            let ip = payload - ipv6Length
            let udpLength = UInt16(length + 8)
            ip.storeBytes(of: UInt32(0x6000_0000).bigEndian, as: UInt32.self)  // version 6, class 0, flow 0
            ip.storeBytes(of: udpLength.bigEndian, toByteOffset: 4, as: UInt16.self)
            ip.storeBytes(of: UInt8(17), toByteOffset: 6, as: UInt8.self)
            ip.storeBytes(of: hopLimit, toByteOffset: 7, as: UInt8.self)
            ip.storeBytes(of: source.high.bigEndian, toByteOffset: 8, as: UInt64.self)
            ip.storeBytes(of: source.low.bigEndian, toByteOffset: 16, as: UInt64.self)
            ip.storeBytes(of: destination.high.bigEndian, toByteOffset: 24, as: UInt64.self)
            ip.storeBytes(of: destination.low.bigEndian, toByteOffset: 32, as: UInt64.self)
            // Pseudo-header (RFC 8200 §8.1): addresses, upper-layer length, next header.
            var sum = wordSum(ip + 8, 32)
            sum &+= UInt64(UInt32(udpLength).bigEndian) &+ UInt64(UInt32(17).bigEndian)
            writeUDP(ip + 40, source: source.port, destination: destination.port, length: udpLength, pseudoSum: sum)
            return ipv6Length
        }
        guard length <= 65535 - ipv4Length else { return 0 }
        let ip = payload - ipv4Length
        let total = UInt16(length + ipv4Length)
        let udpLength = UInt16(length + 8)
        ip.storeBytes(of: UInt16(0x4500).bigEndian, as: UInt16.self)  // version 4, IHL 5, TOS 0
        ip.storeBytes(of: total.bigEndian, toByteOffset: 2, as: UInt16.self)
        ip.storeBytes(of: UInt32(0x0000_4000).bigEndian, toByteOffset: 4, as: UInt32.self)  // id 0 (kernel fills), DF
        ip.storeBytes(of: hopLimit, toByteOffset: 8, as: UInt8.self)
        ip.storeBytes(of: UInt8(17), toByteOffset: 9, as: UInt8.self)
        ip.storeBytes(of: UInt16(0), toByteOffset: 10, as: UInt16.self)
        ip.storeBytes(of: source.v4.bigEndian, toByteOffset: 12, as: UInt32.self)
        ip.storeBytes(of: destination.v4.bigEndian, toByteOffset: 16, as: UInt32.self)
        ip.storeBytes(of: fold(wordSum(ip, 20)), toByteOffset: 10, as: UInt16.self)
        var sum = wordSum(ip + 12, 8)
        sum &+= UInt64(UInt32(udpLength).bigEndian) &+ UInt64(UInt32(17).bigEndian)
        writeUDP(ip + 20, source: source.port, destination: destination.port, length: udpLength, pseudoSum: sum)
        return ipv4Length
    }

    /// The UDP header at `udp` (the payload follows it), checksum over pseudo-header sum,
    /// header and payload. A computed 0 is sent as 0xFFFF (0 means "no checksum").
    @inline(__always)
    private static func writeUDP(_ udp: UnsafeMutableRawPointer, source: UInt16, destination: UInt16, length: UInt16, pseudoSum: UInt64) {
        udp.storeBytes(of: source.bigEndian, as: UInt16.self)
        udp.storeBytes(of: destination.bigEndian, toByteOffset: 2, as: UInt16.self)
        udp.storeBytes(of: length.bigEndian, toByteOffset: 4, as: UInt16.self)
        udp.storeBytes(of: UInt16(0), toByteOffset: 6, as: UInt16.self)
        let checksum = fold(pseudoSum &+ wordSum(udp, Int(length)))
        udp.storeBytes(of: checksum == 0 ? 0xFFFF : checksum, toByteOffset: 6, as: UInt16.self)
    }

    /// The one's-complement sum (RFC 1071) of `count` bytes in memory order, not yet folded:
    /// 32-bit loads added into 64 bits (the sum is independent of byte order as long as the result
    /// is stored back in memory order, which `fold` and the callers do).
    @inline(__always)
    static func wordSum(_ p: UnsafeRawPointer, _ count: Int) -> UInt64 {
        var sum: UInt64 = 0
        var i = 0
        while i + 4 <= count {
            sum &+= UInt64(p.loadUnaligned(fromByteOffset: i, as: UInt32.self))
            i += 4
        }
        if i + 2 <= count {
            sum &+= UInt64(p.loadUnaligned(fromByteOffset: i, as: UInt16.self))
            i += 2
        }
        if i < count {
            // The odd last byte is the high byte of a 16-bit word padded with zero.
            var last: UInt16 = 0
            withUnsafeMutableBytes(of: &last) { $0[0] = p.load(fromByteOffset: i, as: UInt8.self) }
            sum &+= UInt64(last)
        }
        return sum
    }

    /// Folds a sum to 16 bits and complements it: the checksum in memory order.
    @inline(__always)
    static func fold(_ sum: UInt64) -> UInt16 {
        var s = (sum & 0xFFFF_FFFF) &+ (sum >> 32)
        s = (s & 0xFFFF) &+ (s >> 16)
        s = (s & 0xFFFF) &+ (s >> 16)
        s = (s & 0xFFFF) &+ (s >> 16)
        return ~UInt16(truncatingIfNeeded: s)
    }
}
