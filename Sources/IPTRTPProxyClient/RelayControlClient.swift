import Glibc
import IPTRTPProxyAuth
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import IPTRTPProxyTLS

/// A `MediaPlane` backed by a running relay, over its control socket (docs/control-protocol.md).
/// The Kamailio module and the CLI use it; it connects on first use, waits at most `timeout`
/// milliseconds for any reply, and reconnects after the relay restarted.
///
/// Not thread-safe: use one client per thread (Kamailio's workers are processes, each with its own).
public final class RelayControlClient: MediaPlane {
    /// The relay's control socket.
    public let address: ControlAddress
    /// Longest wait for a connection or a reply, in milliseconds.
    public var timeout: Int32
    /// Longest reply accepted (a `list` of many sessions is large).
    public var maxReplyLength = 256 << 20
    private let secret: String?
    /// The CA (and client certificate) for `tls:` relays.
    private let tls: TLSContext?
    private var socket: ControlSocket?
    private var nextID = 1
    private let idPrefix: String
    /// A request sent without waiting for its reply: what it asked (for the log), the request,
    /// and how many times it has been sent.
    private struct Unanswered {
        let what: String
        let command: ControlCommand
        let sendings: Int
    }
    /// Requests sent without waiting whose replies have not been read, by id.
    private var unanswered: [String: Unanswered] = [:]
    /// Deletes whose connection ended before their replies came: sent again first thing on the
    /// next connection (`giveUpConnection`).
    private var toResend: [Unanswered] = []
    /// A delete is sent at most this many times.
    static let maxSendings = 2
    /// At most this many deletes wait to be sent again; more are told as unknown.
    static let maxToResend = 1024
    /// Told one line for each request sent without waiting that the relay refused (or that a
    /// broken connection left unanswered); the module logs it. Nil: not told.
    public var lateRefusal: ((String) -> Void)?

    /// At most this many requests sent without waiting before their replies are read (without
    /// blocking): a relay whose replies nobody reads stops reading the connection.
    static let maxUnanswered = 32

    /// A client for the relay at `address`; `secret` answers the challenge of a TCP or TLS relay,
    /// `tls` verifies a `tls:` relay (and carries a client certificate where one is asked).
    public init(address: ControlAddress, secret: String? = nil, timeout: Int32 = 2000, tls: TLSContext? = nil) {
        self.address = address
        self.secret = secret
        self.tls = tls
        self.timeout = timeout
        idPrefix = "p\(getpid())-"
    }

    /// A client for `unix:PATH` or `tcp:ADDRESS:PORT`.
    public convenience init(_ address: String, secret: String? = nil, timeout: Int32 = 2000, tls: TLSContext? = nil) throws {
        self.init(address: try ControlAddress(parsing: address), secret: secret, timeout: timeout, tls: tls)
    }

    /// Closes the connection (the next call opens a new one, and first sends again the deletes
    /// whose replies this one did not bring).
    public func close() {
        giveUpConnection(resend: true)
    }

    deinit {
        if !toResend.isEmpty { tellUnknown(toResend, reason: "could not be sent again before the client ended") }
    }

    /// Gives the connection up. The replies to requests sent without waiting that have arrived
    /// are still read; of the rest, the relay may or may not have carried them out (a relay that
    /// died, a host that vanished with the request in flight, a stalled relay that reads them
    /// later). With `resend` their deletes are sent again on the next connection, once: to the
    /// relay restarted on the address, or to the standby that took the address over, so that no
    /// session stays up for a call that ended; a delete the first sending had already done is
    /// refused there as unknown, which is not told. Without `resend` (a relay that answers
    /// nothing, or nonsense) their outcome is told as unknown.
    private func giveUpConnection(resend: Bool) {
        guard let connection = socket else { return }
        socket = nil
        guard !unanswered.isEmpty else { return }
        _ = readArrivedReplies(connection)
        var unknown: [Unanswered] = []
        for request in unanswered.values {
            if resend, case .delete = request.command, request.sendings < Self.maxSendings, toResend.count < Self.maxToResend {
                toResend.append(request)
            } else {
                unknown.append(request)
            }
        }
        unanswered.removeAll()
        if !unknown.isEmpty { tellUnknown(unknown, reason: "the connection ended before the replies to \(unknown.count) request(s) sent without waiting were read") }
    }

    private func tellUnknown(_ requests: [Unanswered], reason: String) {
        let names = requests.map(\.what).sorted()
        lateRefusal?("relay \(address): \(reason); their outcome is unknown (\(names.prefix(3).joined(separator: ", "))\(names.count > 3 ? ", ..." : ""))")
    }

    /// Sends the deletes waiting in `toResend` on the fresh `connection`, without waiting. One
    /// that cannot be written stays for the next connection (the caller's request finds this
    /// one broken too).
    private func resendDeletes(on connection: ControlSocket, deadline: Int64) {
        while let request = toResend.first {
            let id = idPrefix + String(nextID)
            nextID += 1
            do {
                try connection.write(ControlProtocol.encode(ControlRequest(id: id, command: request.command)), deadline: deadline)
            } catch {
                return
            }
            toResend.removeFirst()
            unanswered[id] = Unanswered(what: request.what, command: request.command, sendings: request.sendings + 1)
        }
    }

    /// Sends `command` and returns the reply's payload; an error reply, a timeout or a dead relay
    /// throws `MediaPlaneError` with one line for the operator. Every failure but the relay's own
    /// error reply to this request is `planeUnavailable`: the relay cannot be used now.
    public func call(_ command: ControlCommand) throws -> String {
        do {
            return try callOnce(command)
        } catch let refusal as RelayRefusal {
            throw MediaPlaneError(refusal.message)
        } catch let e as MediaPlaneError {
            throw MediaPlaneError(e.message, planeUnavailable: true)
        }
    }

    /// The relay's error reply to one request: the relay works and said no.
    private struct RelayRefusal: Error {
        var message: String
    }

    private func callOnce(_ command: ControlCommand) throws -> String {
        try againOnFreshConnection { try exchange(command) }
    }

    /// Runs `request` on the connection; when a connection that served earlier requests turns out
    /// broken (it may have died with a relay restart: the request never reached a relay), once
    /// more on a fresh one. A broken connection is `MediaPlaneError`.
    private func againOnFreshConnection<T>(_ request: () throws -> T) throws -> T {
        let reused = socket != nil
        do {
            return try request()
        } catch let broken as ControlSocket.Broken {
            giveUpConnection(resend: true)
            if reused {
                do {
                    return try request()
                } catch let again as ControlSocket.Broken {
                    giveUpConnection(resend: true)
                    throw MediaPlaneError("relay \(address): \(again.reason)")
                }
            }
            throw MediaPlaneError("relay \(address): \(broken.reason)")
        }
    }

    private func exchange(_ command: ControlCommand) throws -> String {
        let deadline = MonotonicClock.milliseconds() + Int64(timeout)
        return try roundTrip(try connection(deadline: deadline), command, deadline: deadline)
    }

    /// The open connection, or a new one (connected and greeted within `deadline`).
    private func connection(deadline: Int64) throws -> ControlSocket {
        if let socket { return socket }
        let connection = try ControlSocket(address, timeout: timeout, tls: tls)
        try greet(connection, deadline: deadline)
        socket = connection
        resendDeletes(on: connection, deadline: deadline)
        return connection
    }

    /// Reads the relay's greeting and, where it asks, answers its challenge and checks the relay's
    /// own proof (docs/control-protocol.md, "Authentication"): the secret never leaves this host.
    private func greet(_ connection: ControlSocket, deadline: Int64) throws {
        let greeting = try ControlGreeting(parsing: connection.readLine(deadline: deadline, maxLength: 512))
        guard greeting.authRequired else { return }
        guard let secret, !secret.isEmpty else {
            throw MediaPlaneError("relay \(address) asks for the shared secret, and none is configured")
        }
        let challenge = ControlChallenge(serverNonce: greeting.serverNonce, binding: connection.channelBinding)
        let nonce = ControlChallenge.newNonce()
        let relayProof: String
        do {
            relayProof = try roundTrip(connection, .auth(nonce: nonce, proof: challenge.clientProof(secret: secret, clientNonce: nonce)),
                                       deadline: deadline)
        } catch let e as RelayRefusal {
            throw MediaPlaneError("relay \(address) refused authentication: \(e.message)")
        }
        guard challenge.acceptsRelay(proof: relayProof, clientNonce: nonce, secret: secret) else {
            throw MediaPlaneError("relay \(address) did not prove that it holds the shared secret; not using it")
        }
    }

    private func roundTrip(_ connection: ControlSocket, _ command: ControlCommand, deadline: Int64) throws -> String {
        let id = idPrefix + String(nextID)
        nextID += 1
        do {
            try connection.write(ControlProtocol.encode(ControlRequest(id: id, command: command)), deadline: deadline)
            while true {
                let line = try connection.readLine(deadline: deadline, maxLength: maxReplyLength)
                let reply: ControlReply
                do {
                    reply = try ControlProtocol.decodeReply(line)
                } catch {
                    giveUpConnection(resend: false)
                    throw MediaPlaneError("relay \(address) sent a malformed reply: \(error)")
                }
                // A reply to a request sent without waiting, or to one that timed out: not this one's.
                guard reply.id == id else {
                    noteLate(reply)
                    continue
                }
                switch reply.outcome {
                case .ok(let payload): return payload
                case .error(let message): throw RelayRefusal(message: message)
                }
            }
        } catch let e as MediaPlaneError {
            if e.message.hasPrefix("control: no reply") { giveUpConnection(resend: true) }
            throw e
        }
    }

    /// A reply to a request sent without waiting: a refusal goes to `lateRefusal`, except a
    /// delete sent again that finds its session gone (the first sending did it).
    private func noteLate(_ reply: ControlReply) {
        guard let request = unanswered.removeValue(forKey: reply.id) else { return }
        guard case .error(let message) = reply.outcome else { return }
        if request.sendings > 1, case .delete = request.command, message.contains(": no session ") { return }
        lateRefusal?("relay \(address): \(request.what): \(message)")
    }

    /// Sends `command` and returns once it is written, without waiting for the reply: that is read
    /// with the next request's (or when too many wait), and a refusal goes to `lateRefusal`. A
    /// relay that cannot be reached, or a connection that breaks while writing, throws as `call` does.
    public func send(_ command: ControlCommand, describedAs what: String) throws {
        do {
            try againOnFreshConnection { try sendOnce(command, describedAs: what) }
        } catch let e as MediaPlaneError {
            if e.message.hasPrefix("control: no reply") { giveUpConnection(resend: true) }
            throw MediaPlaneError(e.message, planeUnavailable: true)
        }
    }

    private func sendOnce(_ command: ControlCommand, describedAs what: String) throws {
        let deadline = MonotonicClock.milliseconds() + Int64(timeout)
        // A request that waits learns of a relay that went away from its reply; this one would
        // not: the write into the old connection succeeds and the request is lost. So a connection
        // the relay has closed is found out first, and `againOnFreshConnection` opens a new one
        // (to the relay that took over the address, say).
        if let socket, socket.closedByRelay { throw ControlSocket.Broken(reason: "connection closed by the relay") }
        let connection = try connection(deadline: deadline)
        let id = idPrefix + String(nextID)
        nextID += 1
        try connection.write(ControlProtocol.encode(ControlRequest(id: id, command: command)), deadline: deadline)
        unanswered[id] = Unanswered(what: what, command: command, sendings: 1)
        guard unanswered.count > Self.maxUnanswered else { return }
        readReadyReplies(connection)
        // A relay that reads requests and answers none (hung half-way, or lying) must not grow
        // this table without end: the connection is given up, as for a timed-out request.
        if unanswered.count > Self.maxUnanswered * 32 {
            giveUpConnection(resend: false)
            throw MediaPlaneError("relay \(address) answered none of the last \(Self.maxUnanswered * 32) requests sent without waiting")
        }
    }

    /// Reads the replies that have arrived, without waiting for more; a broken connection is given up.
    private func readReadyReplies(_ connection: ControlSocket) {
        if !readArrivedReplies(connection) { giveUpConnection(resend: true) }
    }

    /// Reads the replies to requests sent without waiting that have arrived on `connection`,
    /// without waiting for more. False when the connection broke or sent what is not a reply.
    private func readArrivedReplies(_ connection: ControlSocket) -> Bool {
        while !unanswered.isEmpty {
            let line: [UInt8]
            do {
                line = try connection.readLine(deadline: MonotonicClock.milliseconds(), maxLength: maxReplyLength)
            } catch is MediaPlaneError {
                return true  // nothing more has arrived
            } catch {
                return false
            }
            guard let reply = try? ControlProtocol.decodeReply(line) else { return false }
            noteLate(reply)
        }
        return true
    }

    // MARK: Typed calls

    /// Checks that the relay answers.
    public func ping() throws {
        _ = try call(.ping)
    }

    /// The relay and its switchboards.
    public func info() throws -> RelayInfo { try decode(try infoJSON(), RelayInfo.init(json:)) }
    /// `info` as the relay's JSON.
    public func infoJSON() throws -> String { try call(.info) }

    /// The live sessions of `switchboard`, or of all.
    public func list(switchboard: String? = nil) throws -> SessionListing {
        try decode(try listJSON(switchboard: switchboard), SessionListing.init(json:))
    }
    /// `list` as the relay's JSON.
    public func listJSON(switchboard: String? = nil) throws -> String { try call(.list(switchboard: switchboard)) }

    /// Relay-wide counters.
    public func stats() throws -> RelayStatistics { try decode(try statsJSON(), RelayStatistics.init(json:)) }
    /// `stats` as the relay's JSON.
    public func statsJSON() throws -> String { try call(.stats) }

    private func decode<T>(_ json: String, _ make: (String) throws -> T) throws -> T {
        do {
            return try make(json)
        } catch {
            throw MediaPlaneError("relay \(address) sent a reply this client cannot read: \(error)", planeUnavailable: true)
        }
    }

    // MARK: Events

    /// Subscribes this client's connection to the relay's events (docs/control-protocol.md,
    /// "Events"), connecting and authenticating first when needed. Keep a client that subscribed
    /// for events only: read them with `events(waitingAtMost:)`.
    public func subscribe() throws {
        _ = try call(.subscribe)
    }

    /// The socket of the connection, to poll for readability; nil when not connected.
    public var fileDescriptor: Int32? { socket?.fd }

    /// The events the relay sent, waiting at most `milliseconds` for the first line. A connection
    /// that broke (the relay stopped) throws `MediaPlaneError`; subscribe again to go on.
    public func events(waitingAtMost milliseconds: Int32) throws -> [ControlEvent] {
        guard let connection = socket else { throw MediaPlaneError("relay \(address): not subscribed", planeUnavailable: true) }
        var events: [ControlEvent] = []
        var deadline = MonotonicClock.milliseconds() + Int64(milliseconds)
        while true {
            let line: [UInt8]
            do {
                line = try connection.readLine(deadline: deadline, maxLength: 4096)
            } catch let broken as ControlSocket.Broken {
                giveUpConnection(resend: true)
                if !events.isEmpty { return events }
                throw MediaPlaneError("relay \(address): \(broken.reason)", planeUnavailable: true)
            } catch let e as MediaPlaneError {
                if e.message.hasPrefix("control: no reply") { return events }
                giveUpConnection(resend: true)
                throw MediaPlaneError(e.message, planeUnavailable: true)
            }
            // Late replies are skipped; an event line this client cannot read is skipped too.
            if ControlProtocol.isEvent(line), let event = try? ControlProtocol.decodeEvent(line) { events.append(event) }
            // Take what has already arrived without waiting again.
            deadline = MonotonicClock.milliseconds() + 1
        }
    }

    // MARK: MediaPlane

    public func allocateSession(switchboard: String, request: SessionRequest) throws -> AllocatedSession {
        let payload = try call(.alloc(switchboard: switchboard, request: request))
        do {
            return try ControlProtocol.decodeAllocated(payload)
        } catch {
            throw MediaPlaneError("relay \(address) sent a malformed alloc reply: \(error)", planeUnavailable: true)
        }
    }

    public func updateSession(switchboard: String, session: SessionHandle, request: SessionRequest) throws {
        _ = try call(.update(switchboard: switchboard, session: session, request: request))
    }

    public func deleteSessions(switchboard: String, ids: ClosedRange<Int>, created: UInt32) throws {
        _ = try call(.delete(switchboard: switchboard, ids: ids, created: created))
    }

    public func deleteSessionsWithoutWaiting(switchboard: String, ids: ClosedRange<Int>, created: UInt32) throws {
        try send(.delete(switchboard: switchboard, ids: ids, created: created),
                 describedAs: "delete \(switchboard):\(ids.lowerBound == ids.upperBound ? "\(ids.lowerBound)" : "\(ids.lowerBound)-\(ids.upperBound)")")
    }
}
