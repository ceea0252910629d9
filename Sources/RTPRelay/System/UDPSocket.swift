import IPTRTPProxyCore
import CIPTRTPProxy
import Glibc

/// Opens the relay's UDP sockets: non-blocking, close-on-exec, IPv6 sockets IPv6-only (so that a
/// v4 gate and a v6 gate never share a socket), with a receive buffer large enough for bursts.
enum UDPSocket {
    /// Receive buffer asked for each relay socket; root may exceed net.core.rmem_max.
    static let receiveBufferBytes: Int32 = 1 << 20

    /// A socket bound to `endpoint`.
    static func bound(to endpoint: Endpoint) throws -> Int32 {
        let address = PeerAddress(endpoint)
        let fd = socket(address.isV6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue) | ipt_sock_nonblock_cloexec(), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        var one: Int32 = 1
        if address.isV6 {
            _ = setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var size = receiveBufferBytes
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var storage = sockaddr_storage()
        let length = address.write(to: &storage)
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard rc == 0 else {
            let e = SystemError("bind \(endpoint)")
            close(fd)
            throw e
        }
        return fd
    }
}
