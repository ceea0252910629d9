import CIPTRTPProxy
import Glibc
import IPTRTPProxyAuth
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import IPTRTPProxyTLS
import Logging

/// The control server's thread: its listeners and connections belong to it alone. One epoll loop
/// accepts, reads, answers the requests of each read in order (one write for their replies), and enforces each
/// listener's limits and deadlines; it closes everything (and removes the Unix socket file) when
/// it ends.
final class ControlLoop {
    /// A listening socket and what it allows.
    struct Listener {
        enum Kind { case unix, tcp, tls(TLSContext) }
        let fd: Int32
        let kind: Kind
        let limits: ControlLimits
        var isUnix: Bool { if case .unix = kind { true } else { false } }
    }

    private let engine: RelayEngine
    private let endpoints: ControlServer.Endpoints
    private let logger: Logger
    private var listeners: [Listener]
    private var connections: [ControlConnection] = []
    /// Failed authentications per peer address, per listener.
    private var throttles: [AuthThrottle]
    /// Lines a stranger can cause, per listener.
    private var strangerLog: [RateLimitedLog]

    init(engine: RelayEngine, endpoints: ControlServer.Endpoints, logger: Logger, listeners: [Listener]) {
        self.engine = engine
        self.endpoints = endpoints
        self.logger = logger
        self.listeners = listeners
        journal = engine.operations.store as? SessionJournal
        throttles = listeners.map { AuthThrottle(burst: $0.limits.failedAuthBurst, perSecond: $0.limits.failedAuthPerSecond) }
        strangerLog = listeners.map { _ in RateLimitedLog() }
    }

    /// The epoll set of the loop: the stop pipe, the listeners and every connection, each with
    /// what it waits for (`ControlConnection.wantedEvents`). One set kept across rounds rather than
    /// a poll list rebuilt per round: a proxy's requests come one at a time, each its own round.
    private var epollFD: Int32 = -1
    /// Serial numbers of connections in the set (an event names its connection by it, as a
    /// closed connection's descriptor may come back for a new one in the same round).
    private var nextSerial: UInt64 = 1
    private static let stopTag: UInt64 = 0
    private static let connectionTags: UInt64 = 1 << 32

    func run(stop: WakeupPipe) {
        defer { closeAll() }
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else {
            logger.critical("control server: epoll_create1 failed: \(SystemError("epoll_create1"))")
            return
        }
        guard watch(stop.readFD, tag: Self.stopTag, events: EPOLLIN.rawValue),
              listeners.indices.allSatisfy({ watch(listeners[$0].fd, tag: 1 + UInt64($0), events: EPOLLIN.rawValue) })
        else {
            logger.critical("control server: epoll_ctl failed: \(SystemError("epoll_ctl"))")
            return
        }
        let capacity = 64
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while true {
            let n = retryingOnInterrupt { epoll_wait(epollFD, events, Int32(capacity), pollTimeout()) }
            if n < 0 {
                logger.critical("control server: epoll_wait failed: \(SystemError("epoll_wait"))")
                return
            }
            let now = MonotonicClock.milliseconds()
            for k in 0..<Int(n) {
                let tag = events[k].data.u64, revents = events[k].events
                if tag == Self.stopTag { return }
                if tag < Self.connectionTags {
                    let i = Int(tag - 1)
                    accept(listener: i, listeners[i], now: now)
                    continue
                }
                // Connections are few (a proxy's workers): a scan finds the one named.
                guard let c = connections.first(where: { $0.serial == tag }), !c.broken else { continue }
                if c.clientClosed(events: revents) { c.clientGone = true }
                serve(c, readable: revents & (EPOLLIN.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue) != 0, now: now)
            }
            deliverEvents(now: MonotonicClock.milliseconds())
            enforceDeadlines(now: MonotonicClock.milliseconds())
            // Checked first: the common round closes nothing and should not build a list for it.
            if connections.contains(where: { $0.broken }) {
                for c in connections where c.broken {
                    if let why = c.handshakeFailure {
                        strangerLog[c.listener].warning(.tlsHandshake, "control: TLS handshake with \(c.peer) failed: \(why)", logger: logger, now: now)
                    }
                    // Replies that never left: the client cannot know of these sessions.
                    if !c.unconfirmedAllocs.isEmpty { undo(c.unconfirmedAllocs, of: c, now: now) }
                    // Closing the descriptor takes it out of the epoll set.
                    c.close()
                }
                connections.removeAll { $0.broken }
            }
            // What each connection waits for next (readable, or writable while replies wait).
            for c in connections {
                let wanted = Self.epollEvents(c)
                guard wanted != c.watchedEvents else { continue }
                var event = epoll_event()
                event.events = wanted
                event.data.u64 = c.serial
                if epoll_ctl(epollFD, EPOLL_CTL_MOD, c.fd, &event) == 0 { c.watchedEvents = wanted } else { c.broken = true }
            }
        }
    }

    /// What the epoll set waits for on `c`: what it wants, and while it waits for input also the
    /// client's FIN (EPOLLRDHUP, for `clientGone` on TCP). Not while replies wait to be written:
    /// level-triggered, it would report at every wait of a client that half-closed and reads
    /// nothing. While waiting for input the FIN makes the socket readable anyway.
    private static func epollEvents(_ c: ControlConnection) -> UInt32 {
        let wanted = c.wantedEvents
        return wanted == UInt32(POLLIN) ? wanted | EPOLLRDHUP.rawValue : wanted
    }

    /// Adds `fd` to the epoll set; false when the kernel refused.
    private func watch(_ fd: Int32, tag: UInt64, events: UInt32) -> Bool {
        var event = epoll_event()
        event.events = events
        event.data.u64 = tag
        return epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0
    }

    private func closeAll() {
        if epollFD >= 0 { close(epollFD) }
        epollFD = -1
        for l in listeners { close(l.fd) }
        listeners = []
        for c in connections { c.close() }
        connections = []
        if let path = endpoints.unixPath { unlink(path) }
    }

    // MARK: Accepting

    private func accept(listener index: Int, _ l: Listener, now: Int64) {
        // Bounded: at most a few hundred per round, the rest wait in the backlog for the next.
        for _ in 0..<256 {
            guard let (fd, peer) = Socket.acceptWithPeer(from: l.fd) else { return }
            let c: ControlConnection
            switch l.kind {
            case .unix:
                c = ControlConnection(fd: fd, listener: index, peer: peer, challenge: nil, now: now)
            case .tcp:
                c = ControlConnection(fd: fd, listener: index, peer: peer, challenge: ControlChallenge(binding: "tcp"), now: now)
            case .tls(let context):
                guard let session = try? TLSSession(serverOn: fd, context: context) else {
                    close(fd)
                    continue
                }
                c = ControlConnection(fd: fd, listener: index, peer: peer, challenge: nil, tls: session, now: now)
            }
            guard admit(c, l, now: now) else {
                c.close()
                continue
            }
            c.serial = Self.connectionTags + nextSerial
            nextSerial += 1
            c.watchedEvents = Self.epollEvents(c)
            guard watch(c.fd, tag: c.serial, events: c.watchedEvents) else {
                c.close()
                continue
            }
            connections.append(c)
            if c.tls == nil { greet(c, now: now) } else { serve(c, readable: true, now: now) }
        }
    }

    /// Makes room for `c` within its listener's limits; false when it must be turned away. A new
    /// connection pushes out an unauthenticated one (the oldest from its own address when that
    /// address has its fill, else the oldest of the biggest crowd when the listener is full):
    /// strangers cannot keep a client that authenticates at once from getting in, and
    /// authenticated clients are never pushed out.
    private func admit(_ c: ControlConnection, _ l: Listener, now: Int64) -> Bool {
        var mine = connections.filter { $0.listener == c.listener && !$0.broken }
        if !c.authenticated {
            let sameAddress = mine.filter { !$0.authenticated && $0.peerHost == c.peerHost }
            if sameAddress.count >= l.limits.maxUnauthenticatedPerAddress,
               let oldest = sameAddress.min(by: { $0.connectedAt < $1.connectedAt }) {
                strangerLog[c.listener].warning(.crowded, 
                    "control: \(sameAddress.count) unauthenticated connections from \(c.peerHost); closed the oldest (\(oldest.peer))",
                    logger: logger, now: now)
                oldest.broken = true
                mine.removeAll { $0 === oldest }
            }
        }
        if mine.count >= l.limits.maxConnections {
            // The victim comes from the address with the most unauthenticated connections (the
            // crowd), the oldest of them: a flood from many connections does not push out the one
            // client that is still between the greeting and its proof.
            let strangers = mine.filter { !$0.authenticated }
            var crowd: [String: Int] = [:]
            for x in strangers { crowd[x.peerHost, default: 0] += 1 }
            guard let oldest = strangers.min(by: { a, b in
                let ca = crowd[a.peerHost] ?? 0, cb = crowd[b.peerHost] ?? 0
                return ca != cb ? ca > cb : a.connectedAt < b.connectedAt
            }) else {
                strangerLog[c.listener].warning(.crowded, 
                    "control: refused a connection from \(c.peer): \(mine.count) authenticated connections, the most this listener takes",
                    logger: logger, now: now)
                return false
            }
            strangerLog[c.listener].warning(.crowded, 
                "control: closed an unauthenticated connection from \(oldest.peer) to make room (\(mine.count) connections)",
                logger: logger, now: now)
            oldest.broken = true
        }
        return true
    }

    // MARK: Serving

    /// Sends the greeting with the connection's challenge (TLS: once the handshake is done, as
    /// the challenge is bound to the TLS session).
    private func greet(_ c: ControlConnection, now: Int64) {
        if let tls = c.tls {
            guard let exported = tls.channelBinding() else {
                c.broken = true
                return
            }
            c.challenge = ControlChallenge(binding: tlsChannelBinding(exported))
        }
        c.queue(line: ControlGreeting(serverNonce: c.challenge?.serverNonce ?? ControlChallenge.newNonce(),
                                      authRequired: c.challenge != nil).line, now: now)
        c.flush()
    }

    /// Reads, answers and writes for one connection; marks it broken when it must close.
    private func serve(_ c: ControlConnection, readable: Bool, now: Int64) {
        if c.tls != nil && !c.tlsEstablished {
            if c.advanceHandshake() { greet(c, now: now) }
            return
        }
        if !c.output.isEmpty {
            flush(c)
            if c.closing && c.output.isEmpty { c.broken = true }
            if !c.output.isEmpty || c.broken { return }
            // Decrypted bytes TLS already holds never make the socket readable again.
            if c.tls?.hasBufferedInput == true && !c.receive() {
                c.broken = true
                return
            }
        } else if readable || c.tlsWantsWrite {
            if !c.receive() {
                c.broken = true
                return
            }
        }
        answerBuffered(c, now: now)
    }

    /// The most replies queued before they are written: pipelined requests read together are
    /// answered with one write (one wakeup of the client), not one each.
    static let repliesPerWrite = 512

    /// Answers the complete lines already read, in order, and writes their replies together;
    /// goes on while the replies leave at once (a client that does not read is not read from).
    private func answerBuffered(_ c: ControlConnection, now: Int64) {
        while c.output.isEmpty, !c.closing {
            var answered = 0
            journal?.beginGroupCommit()
            while answered < Self.repliesPerWrite, !c.closing, let line = c.nextLine() {
                c.lastRequestAt = now
                answer(c, line, now: now)
                answered += 1
            }
            endGroupCommit()
            if answered == 0 { break }
            // The client may have given up (closed) while these were being answered: an alloc
            // it cannot read is undone. On the Unix socket the write says so (EPIPE); on TCP it
            // would succeed, so the FIN is looked for first.
            if c.overNetwork && !c.unconfirmedAllocs.isEmpty && c.clientHasClosed() { c.clientGone = true }
            flush(c)
        }
        if c.closing && c.output.isEmpty { c.broken = true }
        if c.unreadInput > ControlProtocol.maxRequestLength + 1 && !c.closing {
            engine.noteControlRequest(failed: true)
            strangerLog[c.listener].warning(
                .malformed, "control: request longer than \(ControlProtocol.maxRequestLength) bytes from \(c.peer); connection closed",
                logger: logger, now: now)
            c.queue(ControlReply(id: "-", outcome: .error("request longer than \(ControlProtocol.maxRequestLength) bytes")), now: now)
            c.discardInput()
            c.closing = true
            flush(c)
            if c.output.isEmpty { c.broken = true }
        }
    }

    /// The journal, when the sessions go to one: the changes of the requests answered together
    /// are synced with one `fdatasync` before their replies are written (group commit).
    private let journal: SessionJournal?

    /// Syncs the group's changes; a failure is logged like any failed append (the sessions work,
    /// they may not survive a restart).
    private func endGroupCommit() {
        guard let journal else { return }
        do {
            try journal.endGroupCommit()
        } catch {
            logger.error("session store \(journal.location): \(error); sessions changed since may not survive a restart")
        }
    }

    /// Answers one line; sets `closing` when the connection must end after the reply.
    private func answer(_ c: ControlConnection, _ line: ArraySlice<UInt8>, now: Int64) {
        if line.isEmpty || (line.count == 1 && line.first == 13) { return }
        let request: ControlRequest
        do {
            request = try ControlProtocol.decodeRequest(line)
        } catch let e as ControlProtocolError {
            engine.noteControlRequest(failed: true)
            c.queue(ControlReply(id: e.id ?? "-", outcome: .error(e.message)), now: now)
            // A stranger gets one malformed line, not a conversation.
            if !c.authenticated {
                c.closing = true
                strangerLog[c.listener].warning(
                    .malformed, "control: malformed request from \(c.peer) before authentication (\(e.message.prefix(80))); connection closed",
                    logger: logger, now: now)
            }
            return
        } catch {
            c.closing = true
            return
        }
        if case .auth(let nonce, let proof) = request.command {
            authenticate(c, id: request.id, nonce: nonce, proof: proof, now: now)
            return
        }
        guard c.authenticated else {
            engine.noteControlRequest(failed: true)
            c.queue(ControlReply(id: request.id, outcome: .error("authenticate first")), now: now)
            return
        }
        if case .subscribe = request.command {
            c.subscribed = true
            countSubscribers()
            engine.noteControlRequest(failed: false)
            c.queue(ControlReply(id: request.id, outcome: .ok("")), now: now)
            return
        }
        guard case .alloc(let switchboard, _) = request.command else {
            c.queue(engine.reply(to: request), now: now)
            return
        }
        // An alloc whose client closed before it was read was given up (the client timed out
        // waiting): carried out, it would hold a session and its ports that nobody knows of until
        // they expire. Everything else is done: a delete sent without waiting must still free.
        if c.clientGone {
            engine.noteControlRequest(failed: true)
            strangerLog[c.listener].warning(
                .abandoned, "control: alloc \(request.id) on \(switchboard) not carried out: its client closed the connection before the relay read it (it gave up waiting)",
                logger: logger, now: now)
            return
        }
        var allocated: SessionHandle?
        c.queue(engine.reply(to: request) { allocated = $0 }, now: now)
        if let allocated {
            c.unconfirmedAllocs.append(.init(switchboard: switchboard, session: allocated, replyEnd: c.output.count))
        }
    }

    /// Writes what `c` has queued. An alloc stands once its reply is handed to the kernel; a
    /// client known to be gone gets nothing written, and the connection ends (the allocs whose
    /// replies did not leave are undone when it is closed).
    private func flush(_ c: ControlConnection) {
        if c.clientGone && !c.unconfirmedAllocs.isEmpty {
            c.broken = true
            return
        }
        c.flush()
    }

    /// Frees sessions allocated for a client whose connection ended before their replies were
    /// handed to the kernel (it closed, the write failed, or it left replies unread too long).
    private func undo(_ allocs: [ControlConnection.UnconfirmedAlloc], of c: ControlConnection, now: Int64) {
        for a in allocs {
            try? engine.deleteSessions(switchboard: a.switchboard, ids: a.session.id...a.session.id, created: a.session.created)
        }
        let names = allocs.map { "\($0.switchboard):\($0.session)" }
        strangerLog[c.listener].warning(
            .abandoned, "control: \(allocs.count) alloc(s) undone (\(names.prefix(3).joined(separator: ", "))\(names.count > 3 ? ", ..." : "")): their replies could not reach the client (it closed the connection, most likely having given up waiting)",
            logger: logger, now: now)
    }

    private func authenticate(_ c: ControlConnection, id: String, nonce: String, proof: String, now: Int64) {
        guard let challenge = c.challenge else {
            // The Unix socket asks for nothing: an auth there is accepted and ignored.
            c.queue(ControlReply(id: id, outcome: .ok("")), now: now)
            return
        }
        guard !c.authenticated else {
            c.queue(ControlReply(id: id, outcome: .error("already authenticated")), now: now)
            return
        }
        guard throttles[c.listener].mayTry(c.peerHost, now: now) else {
            engine.noteControlRequest(failed: true)
            strangerLog[c.listener].warning(.failedAuthentication, 
                "control: too many failed authentications from \(c.peerHost); refusing \(c.peer) unchecked", logger: logger, now: now)
            c.queue(ControlReply(id: id, outcome: .error("too many failed attempts from \(c.peerHost); try later")), now: now)
            c.closing = true
            return
        }
        let secret = endpoints.secret ?? ""
        guard !secret.isEmpty, challenge.acceptsClient(proof: proof, clientNonce: nonce, secret: secret) else {
            throttles[c.listener].failed(c.peerHost, now: now)
            engine.noteControlRequest(failed: true)
            strangerLog[c.listener].warning(.failedAuthentication, "control: wrong secret from \(c.peer); connection closed", logger: logger, now: now)
            c.queue(ControlReply(id: id, outcome: .error("wrong secret")), now: now)
            c.closing = true
            return
        }
        c.authenticated = true
        c.queue(ControlReply(id: id, outcome: .ok(challenge.relayProof(secret: secret, clientNonce: nonce))), now: now)
    }

    // MARK: Events

    /// The most bytes a subscriber may leave unread (beyond what its socket took) before it is
    /// dropped: a round of `ExpiryEvents.capacity` events (about 200 KB) fits.
    static let maxSubscriberBacklog = 256 * 1024

    /// Tells housekeeping whether anyone listens.
    private func countSubscribers() {
        let n = connections.reduce(0) { $0 + ($1.subscribed && !$1.broken ? 1 : 0) }
        engine.operations.expiryEvents.subscribers.store(n, ordering: .relaxed)
    }

    /// Queues the sessions housekeeping expired on every subscribed connection and sends what its
    /// socket takes. A subscriber that leaves more than `maxSubscriberBacklog` bytes unsent is
    /// dropped: housekeeping never waits for one.
    private func deliverEvents(now: Int64) {
        countSubscribers()
        let events = engine.operations.expiryEvents.take()
        guard !events.isEmpty else { return }
        let lines = events.map { ControlProtocol.encode($0) }
        for c in connections where c.subscribed && !c.broken {
            for line in lines { c.queue(line: line, now: now) }
            flush(c)
            if c.output.count > Self.maxSubscriberBacklog {
                strangerLog[c.listener].warning(.unreadReplies,
                    "control: subscriber \(c.peer) left \(c.output.count) bytes of events unread; connection closed",
                    logger: logger, now: now)
                c.broken = true
            }
        }
        countSubscribers()
    }

    // MARK: Deadlines

    /// Closes connections past a deadline: not authenticated in time, idle too long, or not
    /// taking their replies.
    private func enforceDeadlines(now: Int64) {
        for c in connections where !c.broken {
            let limits = listeners[c.listener].limits
            if let since = c.outputSince, !c.output.isEmpty, now - since >= limits.replyTimeout {
                strangerLog[c.listener].warning(.unreadReplies, 
                    "control: \(c.peer) did not read its reply for \(limits.replyTimeout / 1000) s; connection closed",
                    logger: logger, now: now)
                c.broken = true
            } else if !c.authenticated && limits.authTimeout > 0 && now - c.connectedAt >= limits.authTimeout {
                strangerLog[c.listener].warning(.deadline, 
                    "control: \(c.peer) did not authenticate within \(limits.authTimeout / 1000) s; connection closed",
                    logger: logger, now: now)
                c.broken = true
            } else if limits.idleTimeout > 0 && !c.subscribed && c.output.isEmpty && now - c.lastRequestAt >= limits.idleTimeout {
                c.broken = true
            }
        }
    }

    /// Milliseconds until the next deadline (at most one second), -1 when there is none.
    private func pollTimeout() -> Int32 {
        let now = MonotonicClock.milliseconds()
        var next = Int64.max
        for c in connections where !c.broken {
            let limits = listeners[c.listener].limits
            if let since = c.outputSince, !c.output.isEmpty { next = min(next, since + limits.replyTimeout) }
            if !c.authenticated && limits.authTimeout > 0 { next = min(next, c.connectedAt + limits.authTimeout) }
            if limits.idleTimeout > 0 && !c.subscribed && c.output.isEmpty { next = min(next, c.lastRequestAt + limits.idleTimeout) }
        }
        if next == Int64.max { return connections.isEmpty ? -1 : 1000 }
        return Int32(clamping: min(1000, max(1, next - now)))
    }
}
