import IPTRTPProxyCore

/// The housekeeping round's work on the sessions: expire idle ones, write moved latches to the
/// store, compact the store when it has grown, and let the offload follow the latches.
extension SessionOperations {
    /// One round; returns the number of sessions expired.
    @discardableResult
    func housekeepingRound() -> Int {
        book.withLock { book in
            guard book.serving else { return 0 }
            if let offload {
                offload.refresh(
                    shards: shards, layout: layout, switchboards: switchboards, now: clock.monotonicNanoseconds(), logger: logger)
            }
            let now = clock.monotonicNanoseconds()
            var expired: [Int] = []
            var events: [ControlEvent] = []
            var records: [JournalRecord] = []
            for shard in shards {
                shard.withLock { sh in
                    for l in 0..<sh.count where sh.sessions[l].inUse {
                        let g = layout.global(shard: shard.index, local: l)
                        let s = sh.sessions[l].switchboard
                        let sw = switchboards.all[s]
                        let handle = SessionHandle(id: g - layout.bases[s], created: sh.sessions[l].created)
                        let scan = IdleScan(session: sh.sessions[l], legs: sh.legs + 4 * l, now: now)
                        for (side, j, source) in scan.movedLatches {
                            records.append(.latched(switchboard: sw.name, session: handle, side: side, stream: j, source: source))
                        }
                        if scan.isIdle(expiresTimeout: sw.expiresTimeout) {
                            expired.append(g)
                            events.append(.expired(switchboard: sw.name, session: handle))
                        }
                    }
                }
            }
            for g in expired {
                records.append(free(session: g, book: &book, reason: "expired"))
                book.tallies.expired += 1
            }
            record(records)
            expiryEvents.publish(events)
            if let store, store.appendedSinceRewrite > max(1024, 4 * book.activeSessionCount) {
                compactStore(book: book)
            }
            return expired.count
        }
    }
}

/// What one housekeeping look at a session finds: when it was last active, whether a learning
/// window is still open, and which latches moved since the store last heard of them (their
/// `latchChanged` marks are cleared: the caller writes them).
struct IdleScan {
    var lastActivity: Int64
    var learning = false
    var movedLatches: [(GateSide, Int, Endpoint?)] = []
    let now: Int64

    init(session: SessionState, legs: UnsafeMutablePointer<StreamLeg>, now: Int64) {
        self.now = now
        lastActivity = max(session.allocatedAt, session.touchedAt)
        for side in GateSide.allCases {
            for j in 0..<2 {
                let leg = legs + (side.rawValue * 2 + j)
                lastActivity = max(lastActivity, leg.pointee.lastPacket)
                if leg.pointee.learningEnds > now { learning = true }
                if leg.pointee.latchChanged {
                    leg.pointee.latchChanged = false
                    movedLatches.append((side, j, leg.pointee.latched.endpoint))
                }
            }
        }
    }

    /// Idle for the switchboard's expiry time. A session still inside a learning window (a call
    /// ringing) is not idle.
    func isIdle(expiresTimeout: UInt32) -> Bool {
        !learning && now - lastActivity >= Int64(expiresTimeout) * 1_000_000_000
    }
}
