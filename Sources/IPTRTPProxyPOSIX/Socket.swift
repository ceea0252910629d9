import CIPTRTPProxy
import Glibc
import IPTRTPProxyCore

/// Opening, binding, listening on and connecting sockets: the one place that does it, for the
/// relay, the control client and server, and the load generator. Every socket is close-on-exec;
/// a function that throws has closed what it opened.
public enum Socket {
    /// A datagram socket bound to `endpoint`. IPv6 sockets are IPv6-only (a v4 gate and a v6 gate
    /// never share a socket). Buffers of the sizes given are asked for (root may exceed
    /// net.core.rmem_max with the FORCE options); `nonBlocking` for sockets read from epoll.
    public static func udp(
        boundTo endpoint: Endpoint, receiveBuffer: Int32? = nil, sendBuffer: Int32? = nil, nonBlocking: Bool = true
    ) throws -> Int32 {
        let address = SocketAddress(endpoint)
        let fd = try open(family: address.family, type: Int32(SOCK_DGRAM.rawValue), nonBlocking: nonBlocking)
        if address.family == AF_INET6 { _ = setOption(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, 1) }
        if let size = receiveBuffer, !setOption(fd, SOL_SOCKET, SO_RCVBUFFORCE, size) {
            _ = setOption(fd, SOL_SOCKET, SO_RCVBUF, size)
        }
        if let size = sendBuffer, !setOption(fd, SOL_SOCKET, SO_SNDBUFFORCE, size) {
            _ = setOption(fd, SOL_SOCKET, SO_SNDBUF, size)
        }
        try bind(fd, address)
        return fd
    }

    /// A listening stream socket on `address` (TCP, or a Unix path that must not exist).
    public static func listening(on address: SocketAddress, backlog: Int32 = SOMAXCONN) throws -> Int32 {
        let fd = try open(family: address.family, type: Int32(SOCK_STREAM.rawValue), nonBlocking: true)
        if address.family != AF_UNIX { _ = setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1) }
        try bind(fd, address)
        guard Glibc.listen(fd, backlog) == 0 else { throw closing(fd, SystemError("listen \(address)")) }
        return fd
    }

    /// A non-blocking stream socket connected to `address` within `timeout` milliseconds.
    public static func connected(to address: SocketAddress, timeout: Int32) throws -> Int32 {
        let fd = try open(family: address.family, type: Int32(SOCK_STREAM.rawValue), nonBlocking: true)
        let rc = address.withSockaddr { Glibc.connect(fd, $0, $1) }
        if rc == 0 { return fd }
        guard errno == EINPROGRESS || errno == EINTR else { throw closing(fd, SystemError("connect \(address)")) }
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        let ready = retryingOnInterrupt { poll(&p, 1, timeout) }
        guard ready == 1 else { throw closing(fd, SystemError("connect \(address): timed out", code: ETIMEDOUT)) }
        let error = pendingError(fd)
        guard error == 0 else { throw closing(fd, SystemError("connect \(address)", code: error)) }
        return fd
    }

    /// Accepts one connection (non-blocking, close-on-exec); nil when none is waiting.
    public static func accept(from listener: Int32) -> Int32? {
        acceptWithPeer(from: listener)?.fd
    }

    /// Accepts one connection and tells who it comes from (`PeerAddress.none` on a Unix socket).
    public static func acceptWithPeer(from listener: Int32) -> (fd: Int32, peer: PeerAddress)? {
        var storage = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        let fd = withUnsafeMutableBytes(of: &storage) { raw in
            retryingOnInterrupt {
                ipt_accept_nonblock_cloexec(listener, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length)
            }
        }
        guard fd >= 0 else { return nil }
        let peer = withUnsafeBytes(of: storage) { PeerAddress(sockaddr: $0.baseAddress!) }
        return (fd, peer)
    }

    /// Sends one datagram to `address`; the bytes sent, or -1 (errno says why).
    @discardableResult
    public static func send(_ fd: Int32, _ bytes: [UInt8], to address: SocketAddress) -> Int {
        address.withSockaddr { name, length in
            retryingOnInterrupt { sendto(fd, bytes, bytes.count, 0, name, length) }
        }
    }

    /// Receives one datagram (at most `maxLength` bytes) and its source; nil when none is queued
    /// on a non-blocking socket, or on error.
    public static func receive(_ fd: Int32, maxLength: Int = 65536) -> (bytes: [UInt8], from: PeerAddress)? {
        var buffer = [UInt8](repeating: 0, count: maxLength)
        var storage = sockaddr_in6()
        var length = socklen_t(MemoryLayout<sockaddr_in6>.size)
        let n = withUnsafeMutableBytes(of: &storage) { name in
            retryingOnInterrupt {
                recvfrom(fd, &buffer, buffer.count, 0, name.baseAddress!.assumingMemoryBound(to: sockaddr.self), &length)
            }
        }
        guard n >= 0 else { return nil }
        let from = withUnsafeBytes(of: storage) { PeerAddress(sockaddr: $0.baseAddress!) }
        return (Array(buffer[0..<n]), from)
    }

    /// Sets an integer socket option; false when the kernel refused.
    @discardableResult
    public static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) -> Bool {
        var v = value
        return setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0
    }

    /// SO_ERROR: the error of a non-blocking connect, 0 when it succeeded.
    public static func pendingError(_ fd: Int32) -> Int32 {
        var error: Int32 = 0
        var size = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &size) == 0 else { return errno }
        return error
    }

    /// Binds `fd`, closing it when that fails.
    static func bind(_ fd: Int32, _ address: SocketAddress) throws {
        guard address.withSockaddr({ Glibc.bind(fd, $0, $1) }) == 0 else {
            throw closing(fd, SystemError("bind \(address)"))
        }
    }

    private static func open(family: Int32, type: Int32, nonBlocking: Bool) throws -> Int32 {
        let flags = nonBlocking ? ipt_sock_nonblock_cloexec() : Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(family, type | flags, 0)
        guard fd >= 0 else { throw SystemError("socket") }
        return fd
    }

    /// Closes `fd` and returns `error` (errno is read before close can change it).
    private static func closing(_ fd: Int32, _ error: SystemError) -> SystemError {
        close(fd)
        return error
    }
}
