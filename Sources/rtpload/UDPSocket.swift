import CIPTRTPProxy
import Glibc

/// A bound IPv4 UDP socket used both to send a stream and to receive one.
struct UDPSocket {
    let fd: Int32

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Binds `address`, with large buffers so that the generator's own sockets are not where
    /// packets get lost (root may exceed net.core.rmem_max with the FORCE options).
    init(binding address: UDPAddress, bufferBytes: Int32) throws {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var size = bufferBytes
        let len = socklen_t(MemoryLayout<Int32>.size)
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, len) != 0 {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, len)
        }
        if setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, len) != 0 {
            setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, len)
        }
        var on: Int32 = 1
        setsockopt(fd, SOL_SOCKET, ReceiveTimestamp.option, &on, len)
        var sa = address.sockaddr
        let rc = withUnsafePointer(to: &sa) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let why = String(cString: strerror(errno))
            _ = Glibc.close(fd)
            throw Failure(description: "bind \(address): \(why)")
        }
        self.fd = fd
    }

    func close() { _ = Glibc.close(fd) }
}
