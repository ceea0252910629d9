import Glibc
import IPTRTPProxyAuth
import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// One client connection of the control server, owned by the server's thread.
final class ControlConnection {
    let fd: Int32
    /// Index of the listener it came in on.
    let listener: Int
    /// `ADDRESS:PORT` for logs, `unix` on the Unix socket.
    let peer: String
    /// The address alone: what failed authentications and unauthenticated connections are counted by.
    let peerHost: String
    /// The challenge of this connection; nil where no authentication is asked (Unix socket).
    let challenge: ControlChallenge?
    var authenticated: Bool
    let connectedAt: Int64
    /// Last time (ms) a request arrived.
    var lastRequestAt: Int64
    /// Since when (ms) `output` has held bytes the client has not taken.
    var outputSince: Int64?
    /// The connection must close once `output` is sent (after a fatal error reply).
    var closing = false
    var broken = false
    var input: [UInt8] = []
    var output: [UInt8] = []

    init(fd: Int32, listener: Int, peer: PeerAddress, challenge: ControlChallenge?, now: Int64) {
        self.fd = fd
        self.listener = listener
        if let e = peer.endpoint {
            self.peer = e.description
            peerHost = e.address.description
        } else {
            self.peer = "unix"
            peerHost = "unix"
        }
        self.challenge = challenge
        authenticated = challenge == nil
        connectedAt = now
        lastRequestAt = now
    }

    /// Queues a reply line.
    func queue(_ reply: ControlReply, now: Int64) {
        queue(line: ControlProtocol.encode(reply), now: now)
    }

    /// Queues a line (the greeting, a reply).
    func queue(line: String, now: Int64) {
        if output.isEmpty { outputSince = now }
        output.append(contentsOf: line.utf8)
        output.append(10)
    }

    /// The next complete request line in `input`, taken out of it.
    func nextLine() -> [UInt8]? {
        guard let newline = input.firstIndex(of: 10) else { return nil }
        let line = Array(input[input.startIndex..<newline])
        input.removeSubrange(input.startIndex...newline)
        return line
    }

    /// Reads what has arrived; false when the peer closed or the connection failed.
    func receive() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 8192)
        let n = chunk.withUnsafeMutableBytes { raw in retryingOnInterrupt { recv(fd, raw.baseAddress, raw.count, 0) } }
        if n == 0 { return false }
        if n < 0 { return lastCallWouldBlock }
        input.append(contentsOf: chunk[0..<n])
        return true
    }

    /// Sends what the socket takes now.
    func flush() {
        while !output.isEmpty {
            let n = output.withUnsafeBytes { raw in
                retryingOnInterrupt { send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) }
            }
            if n > 0 {
                output.removeFirst(n)
            } else {
                if n < 0 && !lastCallWouldBlock { broken = true }
                return
            }
        }
        outputSince = nil
    }
}
