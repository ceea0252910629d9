import Glibc
import IPTRTPProxyPOSIX

/// A bound IPv4 UDP socket used both to send a stream and to receive one.
struct UDPSocket {
    let fd: Int32

    /// Binds `address`, with large buffers so that the generator's own sockets are not where
    /// packets get lost, and kernel receive timestamps on. Blocking: the sender waits in sendmmsg;
    /// the sink reads with MSG_DONTWAIT after epoll.
    init(binding address: UDPAddress, bufferBytes: Int32) throws {
        fd = try Socket.udp(boundTo: address.endpoint, receiveBuffer: bufferBytes, sendBuffer: bufferBytes, nonBlocking: false)
        Socket.setOption(fd, SOL_SOCKET, ReceiveTimestamp.option, 1)
    }

    func close() { _ = Glibc.close(fd) }
}
