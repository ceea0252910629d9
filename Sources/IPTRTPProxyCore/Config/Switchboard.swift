/// One side of a switchboard: gate A (index 0) or gate B (index 1).
public enum GateSide: Int, Sendable, CaseIterable, Hashable {
    /// Gate A, index 0 in the original's arrays.
    case a = 0
    /// Gate B, index 1.
    case b = 1

    /// The other gate.
    public var opposite: GateSide { self == .a ? .b : .a }

    /// `a` or `b`, as in the cfg and modparam keys.
    public var letter: String { self == .a ? "a" : "b" }
}

/// A gate: one address and a cluster of ports starting at `basePort`.
///
/// Session *k* uses `basePort + 2k` for RTP and `basePort + 2k + 1` for RTCP (spec §1, port layout).
public struct Gate: Hashable, Sendable {
    /// The address both the client and the relay use on this side.
    public var address: IPAddress
    /// The first port of the cluster (RTP of session 0).
    public var basePort: UInt16

    /// Creates a gate.
    public init(address: IPAddress, basePort: UInt16) {
        self.address = address
        self.basePort = basePort
    }

    /// The RTP port of session `id` (RTCP is one above).
    public func rtpPort(session id: Int) -> UInt16 {
        UInt16(truncatingIfNeeded: Int(basePort) + 2 * id)
    }
}

/// Per-side learning defaults set by the `switchboard` modparam.
public struct LearningDefaults: Hashable, Sendable {
    /// Seconds during which the relay latches the client's real source; nil = not set (relay default).
    public var learningTimeout: UInt32?
    /// Keep re-learning the source on every new sender (asymmetric clients).
    public var alwaysLearn: Bool

    /// Creates defaults; nothing set.
    public init(learningTimeout: UInt32? = nil, alwaysLearn: Bool = false) {
        self.learningTimeout = learningTimeout
        self.alwaysLearn = alwaysLearn
    }
}

/// What alloc and update do with the ICE attributes (RFC 8839) of the media they relay (`ice`).
public enum ICEPolicy: String, Sendable, Hashable, CaseIterable {
    /// Remove candidates and ICE attributes of relayed media (the default): phones and browsers
    /// then send to the relay's address in `c=`/`m=` instead of running ICE around it, and their
    /// LAN addresses do not leak to the other side.
    case remove
    /// Leave them as they are (endpoints that must see each other's candidates).
    case keep
    /// Replace them with the relay's own host candidates (the gate's address, RTP and RTCP port)
    /// and fresh credentials, and mark the session `a=ice-lite`: the relay answers the phone's
    /// connectivity checks on its ports as an ICE-lite agent (RFC 8445 §2.5), so that browsers and
    /// other ICE-only endpoints complete ICE against the relay. Needs a relay (embedded or
    /// `iptrtpproxyd`), not xt_RTPPROXY.
    case force

    /// Parses `remove`, `keep` or `force`; the message says what else to write.
    public init(parsing text: String) throws {
        guard let policy = ICEPolicy(rawValue: text.asciiLowercased) else {
            throw ConfigError(source: "ice", "must be remove, keep or force, not '\(text)'")
        }
        self = policy
    }
}

/// A switchboard: two permanently connected gates, and how sessions on it behave.
public struct Switchboard: Hashable, Sendable {
    /// The name from `[switchboard:NAME]`; matched case-insensitively.
    public var name: String
    /// Gate A.
    public var gateA: Gate
    /// Gate B.
    public var gateB: Gate
    /// How many sessions (port pairs per gate) the switchboard holds (`max-sess`).
    public var maxSessions: Int
    /// Seconds without a packet after which a session expires (`expires-timeout`).
    public var expiresTimeout: UInt32
    /// Seconds a freed slot rests before it is reused (`resurrection-timeout`).
    public var resurrectionTimeout: UInt32
    /// Learning window used while a call rings (flag bit 1); default 60 s.
    public var ringingTimeout: UInt32
    /// Learning defaults for the client on gate A's side (index 0) and gate B's side (index 1).
    public var learning: [LearningDefaults]
    /// Packets per second one stream may send on average (`max-stream-pps`); nil = the relay's
    /// default (`iptrtpproxyd --max-stream-pps`).
    public var maxStreamPPS: UInt32?
    /// Packets one stream may send at once (`max-stream-burst`); nil = the relay's default.
    public var maxStreamBurst: UInt32?
    /// The most sessions one alloc or update may leave a call holding (`max-call-sessions`), so
    /// that one SDP with many `m=` lines cannot take a switchboard's ports.
    public var maxCallSessions: Int
    /// What happens to the ICE attributes of relayed media (`ice`, default remove).
    public var ice: ICEPolicy = .remove

    /// Default number of sessions when the cfg file names none.
    public static let defaultMaxSessions = 500
    /// Default idle expiry.
    public static let defaultExpiresTimeout: UInt32 = 60
    /// Default resting time of a freed slot.
    public static let defaultResurrectionTimeout: UInt32 = 10
    /// Default ringing timeout (spec §2).
    public static let defaultRingingTimeout: UInt32 = 60
    /// Default per-call cap: audio, video, presentation video, T.38 and a few more, with room.
    public static let defaultMaxCallSessions = 16

    /// Creates a switchboard with the documented defaults.
    public init(
        name: String, gateA: Gate, gateB: Gate,
        maxSessions: Int = Switchboard.defaultMaxSessions,
        expiresTimeout: UInt32 = Switchboard.defaultExpiresTimeout,
        resurrectionTimeout: UInt32 = Switchboard.defaultResurrectionTimeout,
        ringingTimeout: UInt32 = Switchboard.defaultRingingTimeout,
        learning: [LearningDefaults] = [LearningDefaults(), LearningDefaults()],
        maxStreamPPS: UInt32? = nil, maxStreamBurst: UInt32? = nil,
        maxCallSessions: Int = Switchboard.defaultMaxCallSessions
    ) {
        self.name = name
        self.gateA = gateA
        self.gateB = gateB
        self.maxSessions = maxSessions
        self.expiresTimeout = expiresTimeout
        self.resurrectionTimeout = resurrectionTimeout
        self.ringingTimeout = ringingTimeout
        self.learning = learning
        self.maxStreamPPS = maxStreamPPS
        self.maxStreamBurst = maxStreamBurst
        self.maxCallSessions = maxCallSessions
    }

    /// The gate on `side`.
    public func gate(_ side: GateSide) -> Gate { side == .a ? gateA : gateB }

    /// Learning defaults for the client on `side`.
    public func learning(_ side: GateSide) -> LearningDefaults { learning[side.rawValue] }
}

/// The switchboards of one configuration, in the order the original walks them
/// (reverse file order, so that the last declared wins in `iptrtpproxy_find`).
public struct SwitchboardSet: Sendable, Hashable {
    /// The switchboards, walk order.
    public var all: [Switchboard]

    /// Creates the set.
    public init(_ all: [Switchboard]) { self.all = all }

    /// The switchboard named `name`, compared case-insensitively (ASCII).
    public func named(_ name: String) -> Switchboard? {
        let key = name.asciiLowercased
        return all.first { $0.name.asciiLowercased == key }
    }

    /// Index of the switchboard named `name` in `all`.
    public func index(named name: String) -> Int? {
        let key = name.asciiLowercased
        return all.firstIndex { $0.name.asciiLowercased == key }
    }
}

extension String {
    /// The string with ASCII letters lowered; names in cfg files and modparams are ASCII.
    var asciiLowercased: String {
        String(decoding: utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }
}
