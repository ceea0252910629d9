/// Why the relay dropped a packet.
public enum DropReason: Int, CaseIterable, Hashable, Sendable {
    /// From a source other than the stream's client after learning ended (RTP bleed, strays).
    case unknownSource = 0
    /// The other side's client has no address yet (not in SDP, not learned).
    case noDestination
    /// Above the stream's rate limit (flood).
    case throttled
    /// The kernel refused to send it.
    case sendFailed
    /// Larger than the relay's packet buffer.
    case oversize

    /// The name in JSON and metrics: `unknown-source`, `no-destination`, ...
    public var name: String {
        switch self {
        case .unknownSource: return "unknown-source"
        case .noDestination: return "no-destination"
        case .throttled: return "throttled"
        case .sendFailed: return "send-failed"
        case .oversize: return "oversize"
        }
    }
}

/// Packet counters of one stream, one side, a session or the whole relay: packets received from
/// the client and forwarded, their bytes, drops by reason, and when the last packet came.
public struct StreamCounters: Hashable, Sendable {
    /// Packets received from the client and forwarded.
    public var packets: UInt64
    /// Bytes (UDP payload) of those packets.
    public var bytes: UInt64
    /// Dropped packets, indexed by `DropReason.rawValue`.
    public var drops: [UInt64]
    /// Unix time (seconds) of the last forwarded packet; nil when none came.
    public var lastPacket: UInt32?
    /// RTP packets the client's sequence numbers say it sent (RFC 3550 A.3), counted on RTP
    /// streams only (`RTPReceptionStatistics`).
    public var expected: UInt64
    /// RTP packets lost on the way from the client to the relay: expected - received, negative
    /// when duplicates came.
    public var lost: Int64
    /// Interarrival jitter (RFC 3550 A.8) in microseconds; for several streams the worst of them.
    /// Nil when no stream's clock rate is known. Sessions already freed do not count.
    public var jitterMicroseconds: UInt32?

    /// Creates counters; all zero by default.
    public init(
        packets: UInt64 = 0, bytes: UInt64 = 0, drops: [UInt64]? = nil, lastPacket: UInt32? = nil,
        expected: UInt64 = 0, lost: Int64 = 0, jitterMicroseconds: UInt32? = nil
    ) {
        self.packets = packets
        self.bytes = bytes
        self.drops = drops ?? Array(repeating: 0, count: DropReason.allCases.count)
        self.lastPacket = lastPacket
        self.expected = expected
        self.lost = lost
        self.jitterMicroseconds = jitterMicroseconds
    }

    /// Lost over expected, 0...1 (0 when nothing was expected or duplicates outnumber losses).
    public var lossFraction: Double { expected == 0 || lost <= 0 ? 0 : min(1, Double(lost) / Double(expected)) }

    /// Drops for one reason.
    public subscript(reason: DropReason) -> UInt64 {
        get { drops[reason.rawValue] }
        set { drops[reason.rawValue] = newValue }
    }

    /// All drops.
    public var dropped: UInt64 { drops.reduce(0, &+) }

    /// Adds `other` (the later of the two last-packet times and the worse jitter are kept).
    public mutating func add(_ other: StreamCounters) {
        packets &+= other.packets
        bytes &+= other.bytes
        for i in drops.indices { drops[i] &+= other.drops[i] }
        if let t = other.lastPacket { lastPacket = max(lastPacket ?? 0, t) }
        expected &+= other.expected
        lost &+= other.lost
        if let j = other.jitterMicroseconds { jitterMicroseconds = max(jitterMicroseconds ?? 0, j) }
    }

    /// Writes the counters as a JSON object.
    public func write(to json: inout JSONWriter) {
        json.object { j in
            j.member("packets", packets)
            j.member("bytes", bytes)
            j.key("drops")
            j.object { d in
                for r in DropReason.allCases { d.member(r.name, drops[r.rawValue]) }
            }
            j.member("last-packet", lastPacket)
            j.member("expected", expected)
            j.member("lost", lost)
            j.member("jitter-us", jitterMicroseconds)
        }
    }

    /// Reads what `write(to:)` wrote.
    public init(json: JSONValue) throws {
        let r = JSONReader(json, "counters")
        self.init(packets: try r.uint64("packets"), bytes: try r.uint64("bytes"), lastPacket: try r.optionalUInt32("last-packet"))
        let d = JSONReader(try r.member("drops"), "drops")
        for reason in DropReason.allCases { self[reason] = try d.uint64(reason.name) }
        // Absent from relays before the RTP quality figures existed.
        if json["expected"] != nil { expected = try r.uint64("expected") }
        if json["lost"] != nil {
            guard let l = json["lost"]?.intValue.map(Int64.init) else { throw r.fail("lost", "an integer") }
            lost = l
        }
        if json["jitter-us"] != nil { jitterMicroseconds = try r.optionalUInt32("jitter-us") }
    }
}

/// Reads typed members out of a `JSONValue` object with errors that name the member.
struct JSONReader {
    let value: JSONValue
    let context: String

    init(_ value: JSONValue, _ context: String) {
        self.value = value
        self.context = context
    }

    func fail(_ key: String, _ what: String) -> ControlProtocolError {
        ControlProtocolError(id: nil, "\(context).\(key): expected \(what)")
    }

    func member(_ key: String) throws -> JSONValue {
        guard let v = value[key] else { throw fail(key, "a member") }
        return v
    }

    func uint64(_ key: String) throws -> UInt64 {
        guard let n = try member(key).uint64Value else { throw fail(key, "an unsigned integer") }
        return n
    }

    func int(_ key: String) throws -> Int {
        guard let n = try member(key).intValue else { throw fail(key, "an integer") }
        return n
    }

    func uint32(_ key: String) throws -> UInt32 {
        guard let n = try member(key).uint64Value, let v = UInt32(exactly: n) else { throw fail(key, "a 32-bit unsigned integer") }
        return v
    }

    func uint16(_ key: String) throws -> UInt16 {
        guard let n = try member(key).uint64Value, let v = UInt16(exactly: n) else { throw fail(key, "a port") }
        return v
    }

    func optionalUInt32(_ key: String) throws -> UInt32? {
        let v = try member(key)
        if v.isNull { return nil }
        guard let n = v.uint64Value, let u = UInt32(exactly: n) else { throw fail(key, "null or a 32-bit unsigned integer") }
        return u
    }

    func string(_ key: String) throws -> String {
        guard let s = try member(key).stringValue else { throw fail(key, "a string") }
        return s
    }

    func optionalString(_ key: String) throws -> String? {
        let v = try member(key)
        if v.isNull { return nil }
        guard let s = v.stringValue else { throw fail(key, "null or a string") }
        return s
    }

    func bool(_ key: String) throws -> Bool {
        guard let b = try member(key).boolValue else { throw fail(key, "true or false") }
        return b
    }

    func array(_ key: String) throws -> [JSONValue] {
        guard let a = try member(key).arrayValue else { throw fail(key, "an array") }
        return a
    }

    func endpoint(_ key: String) throws -> Endpoint {
        guard let e = ControlProtocol.parseEndpoint(try string(key)) else { throw fail(key, "ADDRESS:PORT") }
        return e
    }

    /// An address, or nil when the member is null or absent.
    func optionalAddress(_ key: String) throws -> IPAddress? {
        guard value[key] != nil, let s = try optionalString(key) else { return nil }
        guard let a = IPAddress(s) else { throw fail(key, "null or an IPv4 or IPv6 address") }
        return a
    }

    func optionalEndpoint(_ key: String) throws -> Endpoint? {
        guard let s = try optionalString(key) else { return nil }
        guard let e = ControlProtocol.parseEndpoint(s) else { throw fail(key, "null or ADDRESS:PORT") }
        return e
    }
}
