import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// The sockets of one forwarding thread in shared-socket mode: one UDP socket per address family
/// that every packet for the thread's sessions is steered into (`PortSteering`), told each
/// packet's gate address and port by IP_ORIGDSTADDR / IPV6_ORIGDSTADDR, and one raw socket per
/// family that sends from any gate port with headers the relay writes (`UDPDatagramHeader`).
/// Four descriptors per thread instead of four per session. -1 for a family no gate uses.
struct ShardSockets: Sendable {
    var receive4: Int32 = -1
    var receive6: Int32 = -1
    var raw4: Int32 = -1
    var raw6: Int32 = -1

    /// IP_RECVORIGDSTADDR / IP_ORIGDSTADDR (linux/in.h).
    static let ipOriginalDestination: Int32 = 20
    /// IPV6_RECVORIGDSTADDR / IPV6_ORIGDSTADDR (linux/in6.h).
    static let ipv6OriginalDestination: Int32 = 74
    /// Buffers of the shared sockets: they carry what a thousand per-port sockets did.
    static let bufferBytes: Int32 = 16 << 20

    /// Opens the sockets of the families asked for. The receive sockets are bound to an
    /// ephemeral port of the wildcard address: the steering, not the bound port, brings their
    /// packets. Raw sockets need CAP_NET_RAW. Throws, having closed what it opened.
    static func open(v4: Bool, v6: Bool) throws -> ShardSockets {
        var sockets = ShardSockets()
        do {
            if v4 {
                sockets.receive4 = try Socket.udp(
                    boundTo: Endpoint(address: .v4(0), port: 0), receiveBuffer: bufferBytes, sendBuffer: bufferBytes)
                guard Socket.setOption(sockets.receive4, Int32(IPPROTO_IP), ipOriginalDestination, 1) else {
                    throw SystemError("setsockopt IP_RECVORIGDSTADDR")
                }
                sockets.raw4 = try raw(family: AF_INET)
            }
            if v6 {
                sockets.receive6 = try Socket.udp(
                    boundTo: Endpoint(address: .v6(IPAddress.IPv6Bytes(bytes: Array(repeating: 0, count: 16))), port: 0),
                    receiveBuffer: bufferBytes, sendBuffer: bufferBytes)
                guard Socket.setOption(sockets.receive6, Int32(IPPROTO_IPV6), ipv6OriginalDestination, 1) else {
                    throw SystemError("setsockopt IPV6_RECVORIGDSTADDR")
                }
                sockets.raw6 = try raw(family: AF_INET6)
            }
        } catch {
            sockets.close()
            throw error
        }
        return sockets
    }

    /// A raw socket that sends whole IP datagrams (IPPROTO_RAW implies IP_HDRINCL, for IPv6 too)
    /// and receives nothing.
    private static func raw(family: Int32) throws -> Int32 {
        let fd = socket(family, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), Int32(IPPROTO_RAW))
        guard fd >= 0 else { throw SystemError("raw socket (needs CAP_NET_RAW)") }
        if !Socket.setOption(fd, SOL_SOCKET, SO_SNDBUFFORCE, bufferBytes) { _ = Socket.setOption(fd, SOL_SOCKET, SO_SNDBUF, bufferBytes) }
        return fd
    }

    /// Closes every socket.
    mutating func close() {
        for fd in [receive4, receive6, raw4, raw6] where fd >= 0 { Glibc.close(fd) }
        self = ShardSockets()
    }

    /// The raw socket of `destination`'s family.
    @inline(__always)
    func raw(for destination: PeerAddress) -> Int32 { destination.isV6 ? raw6 : raw4 }

    /// Sends one datagram from the gate endpoint `source` to `destination` (an ICE answer: off
    /// the batch path, so it copies). Returns false when it was not sent.
    func send(_ payload: [UInt8], from source: PeerAddress, to destination: PeerAddress) -> Bool {
        let fd = raw(for: destination)
        guard fd >= 0 else { return false }
        let room = UDPDatagramHeader.maximumLength
        var datagram = [UInt8](repeating: 0, count: room + payload.count)
        return datagram.withUnsafeMutableBytes { buffer -> Bool in
            let start = buffer.baseAddress!
            payload.withUnsafeBytes { (start + room).copyMemory(from: $0.baseAddress!, byteCount: payload.count) }
            let header = UDPDatagramHeader.write(from: source, to: destination, payload: start + room, length: payload.count)
            guard header > 0 else { return false }
            var name = sockaddr_in6()
            var target = destination
            target.port = 0  // a raw socket's address names the host only
            let length = withUnsafeMutableBytes(of: &name) { target.write(to: $0.baseAddress!) }
            let sent = withUnsafePointer(to: &name) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, start + room - header, header + payload.count, Int32(MSG_DONTWAIT), $0, length)
                }
            }
            return sent == header + payload.count
        }
    }
}
