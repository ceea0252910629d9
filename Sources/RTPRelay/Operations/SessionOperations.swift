import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Logging
import Synchronization

/// The control-facing side of the relay: allocate, update and delete sessions, and report them.
/// It owns the `SessionBook` (slots, requests, tallies) behind one lock, reaches the legs through
/// their shards' locks, writes every change to the store before it returns, and tells the offload
/// when a stream must leave the kernel.
///
/// Lock order: `book`, then one shard at a time, then the offload's or the store's own lock.
/// A forwarding thread takes only its shard's lock, for one batch.
final class SessionOperations: Sendable {
    /// How many slots an allocation tries when binding fails (a port taken by another program).
    static let bindAttempts = 4

    let switchboards: SwitchboardSet
    let layout: SessionLayout
    let shards: [LockedShard]
    let clock: any RelayClock
    let floodLimit: FloodLimit
    let defaultLearningTimeout: UInt32
    let logger: Logger
    let store: (any SessionStore)?
    let offload: OffloadCoordinator?
    let destinations: DestinationPolicy
    let book: Mutex<SessionBook>
    /// Most freed sessions whose sockets stay bound (`RelayConfiguration.keptSessions`).
    let keptSessionLimit: Int
    /// Most live and kept sessions together before a freed one closes its sockets (the file limit).
    let descriptorBudget: Int
    /// Sessions expired by housekeeping, for the control server's subscribers.
    let expiryEvents = ExpiryEvents()

    init(configuration: RelayConfiguration) {
        switchboards = configuration.switchboards
        let layout = SessionLayout(switchboards: configuration.switchboards, shards: configuration.workerCount)
        self.layout = layout
        shards = (0..<layout.shardCount).map { w in
            LockedShard(index: w, count: layout.sessionCount(ofShard: w)) { l in
                layout.switchboard(of: layout.global(shard: w, local: l))
            }
        }
        clock = configuration.clock
        floodLimit = configuration.floodLimit
        defaultLearningTimeout = configuration.defaultLearningTimeout
        logger = configuration.logger
        store = configuration.sessionStore ?? configuration.journalPath.map { SessionJournal(path: $0, syncs: configuration.journalSyncs) }
        offload = configuration.offload.map { OffloadCoordinator($0) }
        destinations = DestinationPolicy(
            local: configuration.localAddresses ?? LocalAddresses.current(), switchboards: configuration.switchboards)
        keptSessionLimit = SessionOperations.keptSessionLimit(
            requested: configuration.keptSessions, slots: configuration.switchboards.all.reduce(0) { $0 + $1.maxSessions })
        descriptorBudget = SessionOperations.descriptorBudget(fileLimit: DescriptorLimit.current)
        book = Mutex(SessionBook(
            switchboards: configuration.switchboards, sessionCount: layout.sessionCount, slotOrder: configuration.slotOrder))
    }

    /// The shard of global session `g`.
    @inline(__always) func shard(of g: Int) -> LockedShard { shards[layout.shard(of: g)] }

    // MARK: The three changes

    func allocate(switchboard name: String, request: SessionRequest) throws -> AllocatedSession {
        try book.withLock { book in
            let s = try resolve(name, serving: book.serving)
            let sw = switchboards.all[s]
            try validate(request, on: sw)
            var lastError: (any Error)? = nil
            for _ in 0..<SessionOperations.bindAttempts {
                guard let handle = book.slots[s].allocate(now: clock.wallSeconds()) else {
                    book.tallies.allocationFailures += 1
                    throw MediaPlaneError("switchboard '\(sw.name)': all \(sw.maxSessions) sessions are in use or resting")
                }
                do {
                    try open(session: handle, on: s, request: request, book: &book)
                } catch {
                    book.slots[s].free(handle, now: clock.wallSeconds())
                    lastError = error
                    continue
                }
                book.tallies.allocated += 1
                record([.allocated(switchboard: sw.name, session: handle, request: request)])
                return AllocatedSession(
                    handle: handle, rtpPorts: [sw.gateA.rtpPort(session: handle.id), sw.gateB.rtpPort(session: handle.id)])
            }
            book.tallies.allocationFailures += 1
            throw MediaPlaneError("switchboard '\(sw.name)': cannot open session ports: \(lastError.map { "\($0)" } ?? "?")")
        }
    }

    func update(switchboard name: String, session: SessionHandle, request: SessionRequest) throws {
        try book.withLock { book in
            let s = try resolve(name, serving: book.serving)
            let sw = switchboards.all[s]
            guard book.slots[s].isLive(session) else { throw MediaPlaneError("switchboard '\(sw.name)': no session \(session)") }
            try validate(request, on: sw)
            let handle = SessionHandle(id: session.id, created: book.slots[s].created[session.id])
            let g = layout.global(switchboard: s, id: session.id)
            let l = layout.local(of: g)
            let now = clock.monotonicNanoseconds()
            let unload: [OffloadedStream.Key] = shard(of: g).withLock { sh in
                var unload: [OffloadedStream.Key] = []
                for side in GateSide.allCases where !request[side].isEmpty {
                    for j in 0..<2 {
                        let leg = sh.leg(l, side, j)
                        leg.pointee.apply(
                            request[side].streams[j], alwaysLearn: request[side].alwaysLearn, signal: request[side].signal, now: now,
                            defaultLearningTimeout: defaultLearningTimeout)
                        // A re-pointed stream leaves the kernel at once; it goes back once both
                        // clients are latched again.
                        if leg.pointee.offloaded && !OffloadCoordinator.isFixed(sh, l, stream: j) {
                            unload.append(OffloadedStream.Key(switchboard: sw.name, session: handle, stream: j))
                            for side in GateSide.allCases { sh.leg(l, side, j).pointee.offloaded = false }
                        }
                    }
                }
                for side in GateSide.allCases {
                    if let ice = request[side].ice { sh.setICE(ice, local: l, side: side) }
                }
                sh.sessions[l].touchedAt = now
                return unload
            }
            offload?.remove(unload)
            book.requests[g] = book.requests[g].merging(request)
            record([.updated(switchboard: sw.name, session: handle, request: request)])
        }
    }

    func delete(switchboard name: String, ids: ClosedRange<Int>, created: UInt32) throws {
        try book.withLock { book in
            let s = try resolve(name, serving: book.serving)
            let sw = switchboards.all[s]
            guard book.slots[s].isLive(SessionHandle(id: ids.lowerBound, created: created)) else {
                throw MediaPlaneError("switchboard '\(sw.name)': no session \(ids.lowerBound)/\(created)")
            }
            var records: [JournalRecord] = []
            for id in ids where id < sw.maxSessions && book.slots[s].states[id] == .inUse {
                records.append(free(session: layout.global(switchboard: s, id: id), book: &book, reason: "deleted"))
                book.tallies.deleted += 1
            }
            record(records)
        }
    }

    // MARK: Pieces

    func resolve(_ name: String, serving: Bool) throws -> Int {
        guard let s = switchboards.index(named: name) else {
            throw MediaPlaneError("unknown switchboard '\(name)'")
        }
        guard serving else { throw MediaPlaneError("the relay is not running") }
        return s
    }

    /// Writes records to the store; a failing store is logged (at most one line in ten seconds:
    /// a full disk fails every change of every call), never fails the request (the session works,
    /// it just may not survive a restart).
    func record(_ records: [JournalRecord]) {
        guard let store, !records.isEmpty else { return }
        do {
            try store.append(records)
        } catch {
            let now = MonotonicClock.milliseconds()
            storeLog.withLock {
                $0.log(.error, .storeFailed, "session store \(store.location): \(error); sessions changed since may not survive a restart",
                       logger: logger, now: now)
            }
        }
    }

    /// Failures of the session store, logged at a bounded rate.
    private let storeLog = Mutex(RateLimitedLog(intervalMilliseconds: 10_000))

    /// Unix seconds of a monotonic time.
    static func wall(_ mono: Int64, now: Int64, wallNow: UInt32) -> UInt32 {
        let ago = max(0, now - mono) / 1_000_000_000
        return wallNow &- UInt32(truncatingIfNeeded: ago)
    }
}
