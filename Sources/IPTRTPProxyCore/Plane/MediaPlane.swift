/// What the five functions ask of a media plane, in the shape of the original kernel interface
/// (spec §1): allocate one session, update it, delete a range of sessions. Every backend (the
/// in-process allocator, the relay over its control socket, the xt_RTPPROXY binding) implements it,
/// so the functions behave the same over all of them.
public protocol MediaPlane: AnyObject {
    /// Allocates one session on `switchboard` and returns its id, `created` stamp and ports.
    func allocateSession(switchboard: String, request: SessionRequest) throws -> AllocatedSession
    /// Changes the sources of session `session` (id and the `created` stamp of its incarnation).
    func updateSession(switchboard: String, session: SessionHandle, request: SessionRequest) throws
    /// Deletes sessions `ids` (inclusive); `created` is the stamp of the first id.
    func deleteSessions(switchboard: String, ids: ClosedRange<Int>, created: UInt32) throws
    /// The same, returning as soon as the request is on its way where the plane can (a relay over
    /// its control socket: the reply is read later and a refusal logged then); elsewhere it waits
    /// as `deleteSessions` does. Throws only what the plane knows at once (unreachable).
    func deleteSessionsWithoutWaiting(switchboard: String, ids: ClosedRange<Int>, created: UInt32) throws
}

extension MediaPlane {
    /// Waits: planes with nothing to gain from not waiting (in the same process, the kernel's).
    public func deleteSessionsWithoutWaiting(switchboard: String, ids: ClosedRange<Int>, created: UInt32) throws {
        try deleteSessions(switchboard: switchboard, ids: ids, created: created)
    }
}

/// A failure reported by a media plane; `message` is one line meant for the operator.
public struct MediaPlaneError: Error, Sendable, CustomStringConvertible, Equatable {
    /// Why the plane refused or failed.
    public var message: String
    /// True when the plane itself failed (a relay that refused the connection, reset it, did not
    /// answer in time, or answered what a relay does not say), so that its host is unusable; false
    /// when a working plane refused this one request (a full switchboard, an unknown session).
    public var planeUnavailable: Bool
    /// Creates the error.
    public init(_ message: String, planeUnavailable: Bool = false) {
        self.message = message
        self.planeUnavailable = planeUnavailable
    }
    /// The message.
    public var description: String { message }
}

/// One incarnation of a session slot: `id/created` in session-id strings.
public struct SessionHandle: Hashable, Sendable, CustomStringConvertible {
    /// The slot number on the switchboard; its ports are `base + 2*id` (+1 for RTCP) on each gate.
    public var id: Int
    /// Tells incarnations of a reused slot apart.
    public var created: UInt32

    /// Creates a handle.
    public init(id: Int, created: UInt32) {
        self.id = id
        self.created = created
    }

    /// `id/created`.
    public var description: String { "\(id)/\(created)" }
}

/// What a request says about one stream (RTP or RTCP) of one client. A nil field is left as it is
/// (update) or unknown (allocate): the original's flags `SESSION_ADDR` and `SESSION_LEARNING_TIMEOUT`.
public struct StreamRequest: Hashable, Sendable {
    /// Where the client said (in SDP) it receives this stream.
    public var address: Endpoint?
    /// Learning window in seconds for this stream.
    public var learningTimeout: UInt32?

    /// Creates a stream request.
    public init(address: Endpoint? = nil, learningTimeout: UInt32? = nil) {
        self.address = address
        self.learningTimeout = learningTimeout
    }
}

/// What a request says about the client on one gate's side.
public struct SourceRequest: Hashable, Sendable {
    /// Re-learn the source on every new sender.
    public var alwaysLearn: Bool
    /// RTP (index 0) and RTCP (index 1).
    public var streams: [StreamRequest]
    /// The address the side's SIP message came from, as the proxy received it (Kamailio's
    /// source IP). The relay latches a new source only from this host or the SDP's (any port).
    /// Nil leaves the side's signalling address as it is.
    public var signal: IPAddress?
    /// The relay's ICE credentials towards this side's client (`ice=force`): the relay answers the
    /// connectivity checks on this side's ports that prove this password. Nil keeps the side's
    /// (none after alloc). Says nothing about the client, so it is not part of `isEmpty`.
    public var ice: ICECredentials?

    /// Creates a source request; both streams empty by default.
    public init(
        alwaysLearn: Bool = false, streams: [StreamRequest] = [StreamRequest(), StreamRequest()], signal: IPAddress? = nil,
        ice: ICECredentials? = nil
    ) {
        self.alwaysLearn = alwaysLearn
        self.streams = streams
        self.signal = signal
        self.ice = ice
    }

    /// True when the request says nothing about the client (the original's zeroed `source[o]`);
    /// ICE credentials do not count.
    public var isEmpty: Bool {
        !alwaysLearn && signal == nil && streams.allSatisfy { $0.address == nil && $0.learningTimeout == nil }
    }
}

/// An allocate or update request: one `SourceRequest` per gate side (index 0 = A, 1 = B).
public struct SessionRequest: Hashable, Sendable {
    /// The client on gate A's side, then on gate B's side.
    public var sources: [SourceRequest]
    /// The SIP call the session belongs to (Call-ID, From tag), for reports; nil keeps it.
    public var call: CallIdentity?

    /// Creates a request that says nothing about either side.
    public init(sources: [SourceRequest] = [SourceRequest(), SourceRequest()], call: CallIdentity? = nil) {
        self.sources = sources
        self.call = call
    }

    /// The source on `side`.
    public subscript(side: GateSide) -> SourceRequest {
        get { sources[side.rawValue] }
        set { sources[side.rawValue] = newValue }
    }
}

/// The reply to an allocation.
public struct AllocatedSession: Hashable, Sendable {
    /// Id and created stamp.
    public var handle: SessionHandle
    /// The RTP port on gate A (index 0) and on gate B (index 1); RTCP is one above.
    public var rtpPorts: [UInt16]

    /// Creates the reply.
    public init(handle: SessionHandle, rtpPorts: [UInt16]) {
        self.handle = handle
        self.rtpPorts = rtpPorts
    }
}
