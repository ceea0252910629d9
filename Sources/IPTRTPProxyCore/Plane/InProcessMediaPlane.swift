/// A media plane that allocates relay ports from the switchboards' gates inside the calling process
/// and remembers what each session was asked, without forwarding any packet. It backs the CLI when
/// no relay is running and is the reference the relay's own bookkeeping is tested against. It hands out slots in
/// round robin (the same ids on every dry run); the relay draws them at random. It refuses what
/// the relay refuses by rule alone (a client of another address family than its gate); what
/// depends on the relay's host (its own addresses) only a running relay can check.
public final class InProcessMediaPlane: MediaPlane {
    /// One live session and the sources it was last given.
    public struct SessionRecord: Hashable, Sendable {
        /// Id and stamp.
        public var handle: SessionHandle
        /// The merged requests so far, per side.
        public var request: SessionRequest

        /// Creates a record.
        public init(handle: SessionHandle, request: SessionRequest) {
            self.handle = handle
            self.request = request
        }
    }

    /// The switchboards served.
    public let switchboards: SwitchboardSet
    private var slots: [String: SessionSlots] = [:]
    private var records: [String: [Int: SessionRecord]] = [:]
    private let clock: () -> UInt32

    /// Serves `switchboards`; `clock` gives the current time in seconds.
    public init(switchboards: SwitchboardSet, clock: @escaping () -> UInt32) {
        self.switchboards = switchboards
        self.clock = clock
        for sw in switchboards.all {
            slots[sw.name.asciiLowercased] = SessionSlots(count: sw.maxSessions, resurrectionTimeout: sw.resurrectionTimeout, order: .roundRobin)
        }
    }

    private func resolve(_ name: String) throws -> Switchboard {
        guard let sw = switchboards.named(name) else { throw MediaPlaneError("unknown switchboard '\(name)'") }
        return sw
    }

    public func allocateSession(switchboard: String, request: SessionRequest) throws -> AllocatedSession {
        let sw = try resolve(switchboard)
        let key = sw.name.asciiLowercased
        if let refusal = sw.addressFamilyRefusal(of: request) { throw refusal }
        guard let handle = slots[key]!.allocate(now: clock()) else {
            throw MediaPlaneError("switchboard '\(sw.name)': all \(sw.maxSessions) sessions are in use or resting")
        }
        records[key, default: [:]][handle.id] = SessionRecord(handle: handle, request: request)
        return AllocatedSession(handle: handle, rtpPorts: [sw.gateA.rtpPort(session: handle.id), sw.gateB.rtpPort(session: handle.id)])
    }

    public func updateSession(switchboard: String, session: SessionHandle, request: SessionRequest) throws {
        let sw = try resolve(switchboard)
        let key = sw.name.asciiLowercased
        guard slots[key]!.isLive(session), var record = records[key]?[session.id] else {
            throw MediaPlaneError("switchboard '\(sw.name)': no session \(session)")
        }
        if let refusal = sw.addressFamilyRefusal(of: request) { throw refusal }
        record.request = record.request.merging(request)
        records[key]![session.id] = record
    }

    public func deleteSessions(switchboard: String, ids: ClosedRange<Int>, created: UInt32) throws {
        let sw = try resolve(switchboard)
        let key = sw.name.asciiLowercased
        let now = clock()
        guard let first = records[key]?[ids.lowerBound], created == 0 || first.handle.created == created else {
            throw MediaPlaneError("switchboard '\(sw.name)': no session \(ids.lowerBound)/\(created)")
        }
        for id in ids {
            guard let record = records[key]?[id] else { continue }
            slots[key]!.free(record.handle, now: now)
            records[key]![id] = nil
        }
    }

    /// The live sessions of a switchboard, by id.
    public func sessions(of switchboard: String) -> [SessionRecord] {
        guard let sw = switchboards.named(switchboard) else { return [] }
        return (records[sw.name.asciiLowercased] ?? [:]).values.sorted { $0.handle.id < $1.handle.id }
    }

    /// Puts a saved session back (see `InProcessPlaneState`).
    public func restore(switchboard: String, record: SessionRecord) {
        guard let sw = switchboards.named(switchboard) else { return }
        let key = sw.name.asciiLowercased
        guard record.handle.id < sw.maxSessions else { return }
        slots[key]!.restore(record.handle)
        records[key, default: [:]][record.handle.id] = record
    }
}

extension SessionRequest {
    /// This request with the fields `newer` sets replaced (update semantics: nil leaves as is).
    public func merging(_ newer: SessionRequest) -> SessionRequest {
        var out = self
        if let call = newer.call { out.call = call }
        for side in GateSide.allCases {
            let n = newer[side]
            if let ice = n.ice { out[side].ice = ice }
            if n.isEmpty { continue }
            out[side].alwaysLearn = n.alwaysLearn
            if let signal = n.signal { out[side].signal = signal }
            for s in 0..<2 {
                if let a = n.streams[s].address { out[side].streams[s].address = a }
                if let t = n.streams[s].learningTimeout { out[side].streams[s].learningTimeout = t }
            }
        }
        return out
    }
}
