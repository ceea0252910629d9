import Glibc
import IPTRTPProxyAuth
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import IPTRTPProxyTLS

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
    /// On TLS it is made once the handshake is done (it is bound to the TLS session).
    var challenge: ControlChallenge?
    /// The TLS session on a TLS listener; `tlsEstablished` once its handshake is done.
    let tls: TLSSession?
    var tlsEstablished = false
    /// The TLS session needs the socket writable before it can go on (read or handshake).
    var tlsWantsWrite = false
    var authenticated: Bool
    /// The client asked for events (`subscribe`): expired sessions are pushed to it, and it is
    /// never closed for sending nothing.
    var subscribed = false
    let connectedAt: Int64
    /// Last time (ms) a request arrived.
    var lastRequestAt: Int64
    /// Since when (ms) `output` has held bytes the client has not taken.
    var outputSince: Int64?
    /// The connection must close once `output` is sent (after a fatal error reply).
    var closing = false
    /// The client closed the connection before its requests were read: it reads no reply. A
    /// client gives up a request it waited too long for (a relay stopped or stalled) by closing;
    /// what it sent still waits here, and is read once the relay runs again. On a Unix socket a
    /// full close shows as a hang-up (EPOLLHUP), and a half close (`shutdown`, which tools such as
    /// socat do after their input ends, and still read replies) does not. On TCP and TLS the two
    /// look the same (EPOLLRDHUP: the client's FIN); the clients there (the module, the
    /// `iptrtpproxy` tool) never half-close, so a FIN is taken as a close.
    var clientGone = false
    /// A TCP or TLS connection (not the Unix socket).
    let overNetwork: Bool
    /// A session allocated for this client whose reply is in `output`, not yet handed to the
    /// kernel: undone if the client turns out gone before it is (ControlLoop.flush).
    struct UnconfirmedAlloc {
        let switchboard: String
        let session: SessionHandle
        /// Where its reply ends in `output`; it is confirmed once that much has been sent.
        var replyEnd: Int
    }
    var unconfirmedAllocs: [UnconfirmedAlloc] = []
    var broken = false
    /// The control loop's name for it in its epoll set (0 until it is in the set).
    var serial: UInt64 = 0
    /// What the epoll set waits for on it now (`ControlLoop.epollEvents` when the loop last looked).
    var watchedEvents: UInt32 = 0
    /// Bytes read; those before `inputStart` were taken as lines already (compacted on the next read).
    var input: [UInt8] = []
    private var inputStart = 0
    var output: [UInt8] = []
    /// What one read may take: room for hundreds of pipelined requests, answered with one write.
    static let readSize = 65536
    /// What `receive` reads into: one per connection, not one per read.
    private var readBuffer = [UInt8](repeating: 0, count: ControlConnection.readSize)

    init(fd: Int32, listener: Int, peer: PeerAddress, challenge: ControlChallenge?, tls: TLSSession? = nil, now: Int64) {
        self.fd = fd
        self.tls = tls
        self.listener = listener
        overNetwork = peer.endpoint != nil
        if let e = peer.endpoint {
            self.peer = e.description
            peerHost = e.address.description
        } else {
            self.peer = "unix"
            peerHost = "unix"
        }
        self.challenge = challenge
        authenticated = challenge == nil && tls == nil
        connectedAt = now
        lastRequestAt = now
    }

    /// Queues a reply line, written straight into `output` (`ControlProtocol.appendReply`: no
    /// line built as a string first, four replies per call).
    func queue(_ reply: ControlReply, now: Int64) {
        if output.isEmpty { outputSince = now }
        ControlProtocol.appendReply(reply, to: &output)
        output.append(10)
    }

    /// Queues a line (the greeting, a reply).
    func queue(line: String, now: Int64) {
        if output.isEmpty { outputSince = now }
        output.append(contentsOf: line.utf8)
        output.append(10)
    }

    /// The next complete request line in `input` (without its newline), taken out of it. The
    /// slice stays valid until the next `receive` (lines are not copied, nor the rest moved).
    func nextLine() -> ArraySlice<UInt8>? {
        guard let newline = input[inputStart...].firstIndex(of: 10) else { return nil }
        let line = input[inputStart..<newline]
        inputStart = newline + 1
        return line
    }

    /// Bytes read and not yet taken as lines (an incomplete line).
    var unreadInput: Int { input.count - inputStart }

    /// Drops everything read and not yet answered.
    func discardInput() {
        input.removeAll()
        inputStart = 0
    }

    /// Moves the unread bytes to the front before more are appended.
    private func compactInput() {
        guard inputStart > 0 else { return }
        if inputStart == input.count {
            input.removeAll(keepingCapacity: true)
        } else {
            input.removeSubrange(..<inputStart)
        }
        inputStart = 0
    }

    /// The epoll events to wait for (EPOLLIN and EPOLLOUT are poll's POLLIN and POLLOUT bits): a
    /// TLS handshake waits for what it asked; otherwise nothing more is read while replies wait
    /// to be taken (a pipelining client is held to what it reads).
    var wantedEvents: UInt32 {
        if tls != nil && (!tlsEstablished || output.isEmpty) && tlsWantsWrite { return UInt32(POLLOUT) }
        return output.isEmpty ? UInt32(POLLIN) : UInt32(POLLOUT)
    }

    /// Moves the TLS handshake on; true once it is done. Marks the connection broken when it failed.
    func advanceHandshake() -> Bool {
        guard let tls, !tlsEstablished else { return true }
        switch tls.handshake() {
        case .done:
            tlsEstablished = true
            tlsWantsWrite = false
            return true
        case .wantRead:
            tlsWantsWrite = false
        case .wantWrite:
            tlsWantsWrite = true
        case .failed(let why):
            handshakeFailure = why
            broken = true
        }
        return false
    }

    /// Why the TLS handshake failed, for the log.
    var handshakeFailure: String?

    /// Closes the TLS session (if any) and the socket.
    func close() {
        tls?.close()
        Glibc.close(fd)
    }

    /// Reads what has arrived; false when the peer closed or the connection failed.
    func receive() -> Bool {
        compactInput()
        if let tls { return receiveTLS(tls) }
        let n = readBuffer.withUnsafeMutableBytes { raw in retryingOnInterrupt { recv(fd, raw.baseAddress, raw.count, 0) } }
        if n == 0 { return false }
        if n < 0 { return lastCallWouldBlock }
        input.append(contentsOf: readBuffer[0..<n])
        return true
    }

    private func receiveTLS(_ tls: TLSSession) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 8192)
        // Bounded: what one round may take is the protocol's longest line and some.
        while input.count <= ControlProtocol.maxRequestLength + 8192 {
            let r = chunk.withUnsafeMutableBytes { tls.read(into: $0) }
            switch r {
            case .bytes(let n):
                input.append(contentsOf: chunk[0..<n])
                tlsWantsWrite = false
                if !tls.hasBufferedInput { return true }
            case .wantRead:
                tlsWantsWrite = false
                return true
            case .wantWrite:
                tlsWantsWrite = true
                return true
            case .closed, .failed:
                return false
            }
        }
        return true
    }

    /// Whether poll or epoll events (the two share their bits) say that the client has closed its
    /// end: a hang-up, or on TCP and TLS its FIN (`clientGone`).
    func clientClosed(events: UInt32) -> Bool {
        events & UInt32(POLLHUP) != 0 || (overNetwork && events & UInt32(ControlConnection.pollReadHangUp) != 0)
    }

    /// Whether the client has closed its end, asked without waiting; queued input does not hide it.
    func clientHasClosed() -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN) | ControlConnection.pollReadHangUp, revents: 0)
        guard poll(&p, 1, 0) == 1 else { return false }
        return clientClosed(events: UInt32(UInt16(bitPattern: p.revents)))
    }

    /// POLLRDHUP = EPOLLRDHUP (a GNU extension, not in Glibc's Swift overlay): the peer shut down
    /// its sending side.
    static let pollReadHangUp: Int16 = 0x2000

    /// Sends what the socket takes now.
    func flush() {
        if let tls {
            flushTLS(tls)
            return
        }
        while !output.isEmpty {
            let n = output.withUnsafeBytes { raw in
                retryingOnInterrupt { send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) }
            }
            if n > 0 {
                sent(n)
            } else {
                if n < 0 && !lastCallWouldBlock { broken = true }
                return
            }
        }
        outputSince = nil
    }

    /// Takes the first `n` bytes out of `output` (the kernel has them) and confirms the allocs
    /// whose replies they complete.
    private func sent(_ n: Int) {
        output.removeFirst(n)
        guard !unconfirmedAllocs.isEmpty else { return }
        for i in unconfirmedAllocs.indices { unconfirmedAllocs[i].replyEnd -= n }
        unconfirmedAllocs.removeAll { $0.replyEnd <= 0 }
    }

    private func flushTLS(_ tls: TLSSession) {
        while !output.isEmpty {
            let r = output.withUnsafeBytes { tls.write($0) }
            switch r {
            case .bytes(let n):
                sent(n)
            case .wantRead, .wantWrite:
                return
            case .closed, .failed:
                broken = true
                return
            }
        }
        outputSince = nil
    }
}
