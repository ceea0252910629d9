import Glibc
import IPTRTPProxyCore

/// A UDP peer in the form the forwarding loop compares and sends to: plain fields, no
/// allocation, compared in a few instructions against the source of a received packet.
struct PeerAddress: Equatable {
    /// 0 = none, 4 = IPv4, 6 = IPv6.
    var family: UInt8 = 0
    /// Host byte order.
    var port: UInt16 = 0
    /// IPv4 address, host byte order.
    var v4: UInt32 = 0
    /// IPv6 bytes 0-7 and 8-15, as `IPAddress.IPv6Bytes` holds them.
    var high: UInt64 = 0
    var low: UInt64 = 0

    /// No address.
    static let none = PeerAddress()

    var isSet: Bool { family != 0 }
    var isV6: Bool { family == 6 }

    init() {}

    init(_ endpoint: Endpoint) {
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
    @inline(__always)
    init(sockaddr p: UnsafeRawPointer) {
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
    @inline(__always)
    func write(to p: UnsafeMutableRawPointer) -> socklen_t {
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
    func write(to storage: inout sockaddr_storage) -> socklen_t {
        withUnsafeMutableBytes(of: &storage) { write(to: $0.baseAddress!) }
    }

    /// The endpoint, or nil for none.
    var endpoint: Endpoint? {
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
