import Glibc
import IPTRTPProxyCore

/// The addresses of this host's interfaces and the broadcast addresses of their subnets, as
/// getifaddrs(3) reports them: where a relay must never send, whatever a request says.
public struct LocalAddresses: Sendable, Hashable {
    /// Every address configured on an interface (loopback included).
    public var addresses: Set<IPAddress>
    /// The broadcast address of every IPv4 subnet that has one.
    public var broadcasts: Set<IPAddress>

    /// Creates the sets.
    public init(addresses: Set<IPAddress> = [], broadcasts: Set<IPAddress> = []) {
        self.addresses = addresses
        self.broadcasts = broadcasts
    }

    /// Reads the interfaces now; empty sets when getifaddrs fails (the fixed rules still apply).
    public static func current() -> LocalAddresses {
        var head: UnsafeMutablePointer<ifaddrs>? = nil
        guard getifaddrs(&head) == 0 else { return LocalAddresses() }
        defer { freeifaddrs(head) }
        var out = LocalAddresses()
        var next = head
        while let entry = next {
            next = entry.pointee.ifa_next
            if let a = address(entry.pointee.ifa_addr) { out.addresses.insert(a) }
            if entry.pointee.ifa_flags & UInt32(IFF_BROADCAST) != 0,
               let b = address(entry.pointee.ifa_ifu.ifu_broadaddr) {
                out.broadcasts.insert(b)
            }
        }
        return out
    }

    private static func address(_ p: UnsafeMutablePointer<sockaddr>?) -> IPAddress? {
        guard let p else { return nil }
        let family = Int32(p.pointee.sa_family)
        guard family == AF_INET || family == AF_INET6 else { return nil }
        return PeerAddress(sockaddr: UnsafeRawPointer(p)).endpoint?.address
    }
}
