/// One live session as the relay reports it in a `list` reply.
public struct SessionSnapshot: Hashable, Sendable {
    /// The switchboard.
    public var switchboard: String
    /// Id and created stamp.
    public var handle: SessionHandle
    /// RTP port on gate A (index 0) and gate B (index 1); RTCP is one above.
    public var rtpPorts: [UInt16]
    /// Seconds since allocation (or since the relay restored it).
    public var age: UInt32
    /// Seconds since the last packet or control request touched it; it expires when this reaches
    /// the switchboard's expires-timeout.
    public var idle: UInt32
    /// The client on gate A's side (index 0) and on gate B's side (index 1).
    public var sides: [SideSnapshot]
    /// The SIP call (Call-ID, From tag) the proxy named when it allocated the session, if any.
    public var call: CallIdentity?

    /// Creates a snapshot.
    public init(
        switchboard: String, handle: SessionHandle, rtpPorts: [UInt16], age: UInt32, idle: UInt32, sides: [SideSnapshot],
        call: CallIdentity? = nil
    ) {
        self.switchboard = switchboard
        self.handle = handle
        self.rtpPorts = rtpPorts
        self.age = age
        self.idle = idle
        self.sides = sides
        self.call = call
    }

    /// Everything received from both clients.
    public var counters: StreamCounters {
        var c = StreamCounters()
        for s in sides { c.add(s.counters) }
        return c
    }

    /// Writes the session as a JSON object.
    public func write(to json: inout JSONWriter) {
        json.object { j in
            j.member("switchboard", switchboard)
            j.member("id", handle.id)
            j.member("created", handle.created)
            j.member("port-a", rtpPorts[0])
            j.member("port-b", rtpPorts[1])
            j.member("age", age)
            j.member("idle", idle)
            j.member("call-id", call?.callID)
            j.member("from-tag", call?.fromTag)
            j.key("sides")
            j.array { a in for s in sides { s.write(to: &a) } }
        }
    }

    /// Reads what `write(to:)` wrote.
    public init(json: JSONValue) throws {
        let r = JSONReader(json, "session")
        let sides = try r.array("sides").map(SideSnapshot.init(json:))
        guard sides.count == 2 else { throw r.fail("sides", "two sides") }
        self.init(
            switchboard: try r.string("switchboard"),
            handle: SessionHandle(id: try r.int("id"), created: try r.uint32("created")),
            rtpPorts: [try r.uint16("port-a"), try r.uint16("port-b")],
            age: try r.uint32("age"), idle: try r.uint32("idle"), sides: sides,
            // Absent from relays before Call-IDs were kept; null when the proxy named none.
            call: CallIdentity(json: json))
    }
}

/// The client on one gate's side of a session.
public struct SideSnapshot: Hashable, Sendable {
    /// Which side.
    public var side: GateSide
    /// Re-learns on every new source.
    public var alwaysLearn: Bool
    /// RTP (index 0) and RTCP (index 1).
    public var streams: [StreamSnapshot]

    /// Creates a snapshot.
    public init(side: GateSide, alwaysLearn: Bool, streams: [StreamSnapshot]) {
        self.side = side
        self.alwaysLearn = alwaysLearn
        self.streams = streams
    }

    /// Both streams' counters added.
    public var counters: StreamCounters {
        var c = StreamCounters()
        for s in streams { c.add(s.counters) }
        return c
    }

    /// Writes the side as a JSON object (with the side's counter totals).
    public func write(to json: inout JSONWriter) {
        json.object { j in
            j.member("side", side.letter)
            j.member("always-learn", alwaysLearn)
            j.key("counters")
            counters.write(to: &j)
            j.key("streams")
            j.array { a in for s in streams { s.write(to: &a) } }
        }
    }

    /// Reads what `write(to:)` wrote.
    public init(json: JSONValue) throws {
        let r = JSONReader(json, "side")
        let letter = try r.string("side")
        guard let side = GateSide.allCases.first(where: { $0.letter == letter }) else { throw r.fail("side", "a or b") }
        let streams = try r.array("streams").map(StreamSnapshot.init(json:))
        guard streams.count == 2 else { throw r.fail("streams", "rtp and rtcp") }
        self.init(side: side, alwaysLearn: try r.bool("always-learn"), streams: streams)
    }
}

/// One stream (RTP or RTCP) of one client: where the relay expects it and where it learned it.
public struct StreamSnapshot: Hashable, Sendable {
    /// The relay's port on this side's gate.
    public var gatePort: UInt16
    /// The address the SDP gave, if any.
    public var expected: Endpoint?
    /// The source the relay latched (and sends to), if any.
    public var latched: Endpoint?
    /// True while a new source may still be latched.
    public var learning: Bool
    /// Seconds left in the learning window; nil when closed or open until the first packet.
    public var learningLeft: UInt32?
    /// True while the kernel forwards this stream (kernel offload).
    public var offloaded: Bool
    /// What came from the client on this stream.
    public var counters: StreamCounters
    /// The client holds (its SDP said 0.0.0.0 or ::): nothing is sent to it.
    public var held: Bool
    /// Where the side's SIP message came from, the other host besides the SDP's that may be learned.
    public var signal: IPAddress?
    /// RTP streams: the interarrival jitter in RTP timestamp units (RFC 3550 A.8) and the clock
    /// rate (Hz) it was measured with (`RTPReceptionStatistics`); nil while unknown, and on RTCP.
    /// `counters.jitterMicroseconds` is the same jitter in microseconds.
    public var jitter: UInt32?
    public var clockRate: UInt32?

    /// Creates a snapshot.
    public init(
        gatePort: UInt16, expected: Endpoint?, latched: Endpoint?, learning: Bool, learningLeft: UInt32?,
        offloaded: Bool, counters: StreamCounters, held: Bool = false, signal: IPAddress? = nil,
        jitter: UInt32? = nil, clockRate: UInt32? = nil
    ) {
        self.jitter = jitter
        self.clockRate = clockRate
        self.held = held
        self.signal = signal
        self.gatePort = gatePort
        self.expected = expected
        self.latched = latched
        self.learning = learning
        self.learningLeft = learningLeft
        self.offloaded = offloaded
        self.counters = counters
    }

    /// Writes the stream as a JSON object.
    public func write(to json: inout JSONWriter) {
        json.object { j in
            j.member("gate-port", gatePort)
            j.member("expected", expected?.description)
            j.member("latched", latched?.description)
            j.member("learning", learning)
            j.member("learning-left", learningLeft)
            j.member("offloaded", offloaded)
            j.member("held", held)
            j.member("signal", signal?.description)
            j.member("jitter", jitter)
            j.member("clock-rate", clockRate)
            j.key("counters")
            counters.write(to: &j)
        }
    }

    /// Reads what `write(to:)` wrote.
    public init(json: JSONValue) throws {
        let r = JSONReader(json, "stream")
        self.init(
            gatePort: try r.uint16("gate-port"), expected: try r.optionalEndpoint("expected"),
            latched: try r.optionalEndpoint("latched"), learning: try r.bool("learning"),
            learningLeft: try r.optionalUInt32("learning-left"), offloaded: try r.bool("offloaded"),
            counters: try StreamCounters(json: try r.member("counters")),
            // Absent from relays before `signal` existed.
            held: json["held"] == nil ? false : try r.bool("held"),
            signal: try r.optionalAddress("signal"),
            jitter: json["jitter"] == nil ? nil : try r.optionalUInt32("jitter"),
            clockRate: json["clock-rate"] == nil ? nil : try r.optionalUInt32("clock-rate"))
    }
}

/// The reply to `list`: the live sessions.
public struct SessionListing: Hashable, Sendable {
    /// Sessions by switchboard, then id.
    public var sessions: [SessionSnapshot]

    /// Creates a listing.
    public init(sessions: [SessionSnapshot]) { self.sessions = sessions }

    /// `{"sessions":[...]}`.
    public var json: String {
        var w = JSONWriter()
        w.object { j in
            j.key("sessions")
            j.array { a in for s in sessions { s.write(to: &a) } }
        }
        return w.text
    }

    /// Reads `json`.
    public init(json text: String) throws {
        let v = try JSONParser.parse(text)
        self.init(sessions: try JSONReader(v, "list").array("sessions").map(SessionSnapshot.init(json:)))
    }
}

extension CallIdentity {
    /// The `call-id` and `from-tag` members of a session object; nil when absent, null or not tokens.
    init?(json: JSONValue) {
        guard case .string(let id)? = json["call-id"] else { return nil }
        var tag: String?
        if case .string(let t)? = json["from-tag"] { tag = t }
        self.init(callID: id, fromTag: tag)
    }
}
