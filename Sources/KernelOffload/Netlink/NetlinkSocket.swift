import Glibc
import CIPTRTPProxyNFT

/// A bound netlink socket (libmnl's) and the sequence numbers of what is sent on it. Not
/// thread-safe: one thread at a time sends on it and reads its replies, and builds one transaction
/// at a time (`NetlinkTransaction` numbers its messages from `nextSequence`).
final class NetlinkSocket {
    private let socket: OpaquePointer
    /// The port the kernel gave the socket; replies carry it.
    let portID: UInt32
    /// The sequence number of the next request. Starts at the clock, so that a reply a previous
    /// run left unread cannot pass for one of ours.
    var nextSequence: UInt32
    /// Reused for every read: a dump answers in messages of up to 32 KiB, an ack is far smaller.
    private var buffer = [UInt8](repeating: 0, count: 65536)

    /// Transactions of hundreds of streams go in one sendmsg, and netlink refuses a message larger
    /// than the socket's send buffer: raised to this (allowed with CAP_NET_ADMIN).
    static let transactionBufferBytes: Int32 = 8 << 20
    /// The longest wait for a reply on a transaction socket, so that a lost reply cannot hang the
    /// relay's control thread.
    static let replyTimeoutSeconds = 5

    /// Opens and binds a socket of netlink `family` (NETLINK_NETFILTER, NETLINK_ROUTE). With
    /// `forTransactions`, sized for large nf_tables transactions, with error acks that carry no
    /// copy of the refused message (so a failed large batch still reads), and a bounded wait.
    init(family: Int32, forTransactions: Bool = false) throws(NetlinkError) {
        guard let socket = mnl_socket_open(family) else { throw NetlinkError(errno) }
        guard mnl_socket_bind(socket, 0, pid_t(MNL_SOCKET_AUTOPID)) == 0 else {
            let error = errno
            mnl_socket_close(socket)
            throw NetlinkError(error)
        }
        self.socket = socket
        portID = mnl_socket_get_portid(socket)
        nextSequence = UInt32(truncatingIfNeeded: time(nil))
        // Each option is best effort, as before: without it the socket still works for smaller jobs.
        if forTransactions {
            let fd = mnl_socket_get_fd(socket)
            var size = Self.transactionBufferBytes, one: Int32 = 1
            var timeout = timeval(tv_sec: Self.replyTimeoutSeconds, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size))
            mnl_socket_setsockopt(socket, NETLINK_CAP_ACK, &one, socklen_t(MemoryLayout<Int32>.size))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }
    }

    deinit { mnl_socket_close(socket) }

    /// The next sequence number, taken.
    func takeSequence() -> UInt32 {
        defer { nextSequence &+= 1 }
        return nextSequence
    }

    /// Sends `bytes` (one or more messages) to the kernel in one datagram.
    func send(_ bytes: [UInt8]) throws(NetlinkError) {
        let sent = bytes.withUnsafeBytes { mnl_socket_sendto(socket, $0.baseAddress, $0.count) }
        if sent < 0 { throw NetlinkError(errno) }
    }

    /// Waits for the next datagram and returns its messages. Throws EAGAIN when a transaction
    /// socket's wait ran out, ENOSPC when the datagram did not fit the buffer.
    func receive() throws(NetlinkError) -> [NetlinkMessage] {
        while true {
            let n = buffer.withUnsafeMutableBytes { mnl_socket_recvfrom(socket, $0.baseAddress, $0.count) }
            if n >= 0 { return NetlinkMessage.split(Array(buffer[..<n])) }
            if errno != EINTR { throw NetlinkError(errno) }
        }
    }

    /// The messages of a datagram already queued, without waiting; nil when none is.
    func receiveQueued() -> [NetlinkMessage]? {
        let n = buffer.withUnsafeMutableBytes { recv(mnl_socket_get_fd(socket), $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        return n > 0 ? NetlinkMessage.split(Array(buffer[..<n])) : nil
    }
}
