import Glibc
import IPTRTPProxyCore

/// A UDP peer in the form the forwarding loop compares and sends to: plain fields, no
/// allocation, compared in a few instructions against the source of a received packet. The one
/// place in the project that reads and writes `sockaddr_in`/`sockaddr_in6`.
public struct PeerAddress: Hashable, Sendable {
    /// 0 = none, 4 = IPv4, 6 = IPv6.
    public var family: UInt8 = 0
    /// Host byte order.
    public var port: UInt16 = 0
    /// IPv4 address, host byte order.
    public var v4: UInt32 = 0
    /// IPv6 bytes 0-7 and 8-15, as `IPAddress.IPv6Bytes` holds them.
    public var high: UInt64 = 0
    public var low: UInt64 = 0

    /// No address.
    public static let none = PeerAddress()

    @inlinable public var isSet: Bool { family != 0 }
    @inlinable public var isV6: Bool { family == 6 }

    @inlinable public init() {}

    public init(_ endpoint: Endpoint) {
        port = endpoint.port
        switch endpoint.address {
        case .v4(let a):
            family = 4
            v4 = a
        case .v6(let b):
            family = 6
            high = b.high
            low = b.low
        }
    }

    /// Reads a `sockaddr_in` or `sockaddr_in6` (as recvmmsg fills `msg_name`).
    @inlinable
    public init(sockaddr p: UnsafeRawPointer) {
        let family = p.loadUnaligned(as: sa_family_t.self)
        if family == sa_family_t(AF_INET) {
            self.family = 4
            port = UInt16(bigEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
            v4 = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        } else if family == sa_family_t(AF_INET6) {
            self.family = 6
            port = UInt16(bigEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
            high = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            low = UInt64(bigEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        }
    }

    /// Writes the address as a `sockaddr_in`/`sockaddr_in6` at `p` (room for a `sockaddr_in6`)
    /// and returns its length.
    @inlinable
    public func write(to p: UnsafeMutableRawPointer) -> socklen_t {
        if family == 6 {
            p.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<sockaddr_in6>.size)
            p.storeBytes(of: sa_family_t(AF_INET6), as: sa_family_t.self)
            p.storeBytes(of: port.bigEndian, toByteOffset: 2, as: UInt16.self)
            p.storeBytes(of: high.bigEndian, toByteOffset: 8, as: UInt64.self)
            p.storeBytes(of: low.bigEndian, toByteOffset: 16, as: UInt64.self)
            return socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
        p.initializeMemory(as: UInt8.self, repeating: 0, count: MemoryLayout<sockaddr_in>.size)
        p.storeBytes(of: sa_family_t(AF_INET), as: sa_family_t.self)
        p.storeBytes(of: port.bigEndian, toByteOffset: 2, as: UInt16.self)
        p.storeBytes(of: v4.bigEndian, toByteOffset: 4, as: UInt32.self)
        return socklen_t(MemoryLayout<sockaddr_in>.size)
    }

    /// Writes into a `sockaddr_storage`.
    public func write(to storage: inout sockaddr_storage) -> socklen_t {
        withUnsafeMutableBytes(of: &storage) { write(to: $0.baseAddress!) }
    }

    /// Compares in a few instructions: the forwarding loop does this for every packet.
    @inlinable
    public static func == (l: PeerAddress, r: PeerAddress) -> Bool {
        l.family == r.family && l.port == r.port && l.v4 == r.v4 && l.high == r.high && l.low == r.low
    }

    /// True when `other` has the same IP address (any port): the NAT case of learning.
    @inlinable
    public func sameHost(_ other: PeerAddress) -> Bool {
        family == other.family && v4 == other.v4 && high == other.high && low == other.low
    }

    /// The same address with port 0: a host, as the signalling address of a side is kept.
    public init(host address: IPAddress) {
        self.init(Endpoint(address: address, port: 0))
    }

    /// The endpoint, or nil for none.
    public var endpoint: Endpoint? {
        switch family {
        case 4: return Endpoint(address: .v4(v4), port: port)
        case 6:
            var bytes: [UInt8] = []
            for word in [high, low] { for k in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64(k)))) } }
            return Endpoint(address: .v6(IPAddress.IPv6Bytes(bytes: bytes)), port: port)
        default: return nil
        }
    }
}
