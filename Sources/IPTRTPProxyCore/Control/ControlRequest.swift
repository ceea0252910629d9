/// One request of the relay's control protocol (docs/control-protocol.md): what a client (the
/// CLI, the Kamailio module) asks the relay, with the id the reply will carry.
public struct ControlRequest: Hashable, Sendable {
    /// Chosen by the client and echoed in the reply: 1–32 characters of `A-Z a-z 0-9 . _ -`.
    public var id: String
    /// What is asked.
    public var command: ControlCommand

    /// Creates a request.
    public init(id: String, command: ControlCommand) {
        self.id = id
        self.command = command
    }
}

/// The commands of protocol version 2. alloc, update and delete mirror `MediaPlane`.
public enum ControlCommand: Hashable, Sendable {
    /// Liveness check; the reply payload is `pong`.
    case ping
    /// Answers the relay's challenge (docs/control-protocol.md): the client's nonce and its
    /// HMAC proof; required first on a TCP or TLS connection.
    case auth(nonce: String, proof: String)
    /// The relay and its switchboards (JSON payload, `RelayInfo`).
    case info
    /// The live sessions, of one switchboard or all (JSON payload, `SessionListing`).
    case list(switchboard: String?)
    /// Relay-wide counters (JSON payload, `RelayStatistics`).
    case stats
    /// `MediaPlane.allocateSession`; the reply payload is `ID/CREATED PORT_A PORT_B`.
    case alloc(switchboard: String, request: SessionRequest)
    /// `MediaPlane.updateSession`; nil fields of the request leave the session as it is.
    case update(switchboard: String, session: SessionHandle, request: SessionRequest)
    /// `MediaPlane.deleteSessions`: ids `ids`, `created` the stamp of the first.
    case delete(switchboard: String, ids: ClosedRange<Int>, created: UInt32)
    /// Turns the connection into a subscription: from the `ok` reply on, the relay also sends
    /// unsolicited event lines (`ControlEvent`) on it.
    case subscribe

    /// The verb on the wire.
    public var verb: String {
        switch self {
        case .ping: return "ping"
        case .auth: return "auth"
        case .info: return "info"
        case .list: return "list"
        case .stats: return "stats"
        case .alloc: return "alloc"
        case .update: return "update"
        case .delete: return "delete"
        case .subscribe: return "subscribe"
        }
    }
}

/// A reply: the request's id and either success with a payload, or an error message.
public struct ControlReply: Hashable, Sendable {
    /// The id of the request answered (`-` when the request was too broken to carry one).
    public var id: String
    /// The outcome.
    public var outcome: Outcome

    /// Success or failure of a request.
    public enum Outcome: Hashable, Sendable {
        /// Done; the payload depends on the command (may be empty).
        case ok(String)
        /// Refused or failed; one line for the operator.
        case error(String)
    }

    /// Creates a reply.
    public init(id: String, outcome: Outcome) {
        self.id = id
        self.outcome = outcome
    }
}

/// A request or reply line that does not follow the protocol.
public struct ControlProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The request id, when it could be read (so that the error reply can carry it).
    public var id: String?
    /// What is wrong.
    public var message: String

    /// Creates the error.
    public init(id: String?, _ message: String) {
        self.id = id
        self.message = message
    }

    /// The message.
    public var description: String { message }
}

/// An unsolicited line the relay sends on a subscribed connection (`subscribe`):
/// `iptrtp/2 - event expired SWITCHBOARD ID/CREATED`.
public enum ControlEvent: Hashable, Sendable {
    /// The relay freed the session because no media came for the switchboard's expires-timeout.
    case expired(switchboard: String, session: SessionHandle)
}
