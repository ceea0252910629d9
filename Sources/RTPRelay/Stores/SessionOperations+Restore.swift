import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// Putting sessions back from the store at start, and rewriting the store to the live state.
extension SessionOperations {
    /// Replays the store (book lock held, forwarding threads not yet started): live sessions get
    /// their sockets back with the same ids, stamps and ports and their latches; freed slots keep
    /// resting. Then the store is rewritten to just that state.
    func restore(book: inout SessionBook) throws {
        guard let store else { return }
        try store.claim()
        let (records, skipped) = try store.load()
        if skipped > 0 { logger.warning("session store \(store.location): skipped \(skipped) damaged record(s)") }
        let state = JournalState(replaying: records)
        let now = clock.monotonicNanoseconds()
        var restored = 0, lost = 0
        for (s, sw) in switchboards.all.enumerated() {
            let key = sw.name.lowercased()
            for (id, f) in state.freed[key] ?? [:] where id < sw.maxSessions {
                book.slots[s].restore(f.session)
                book.slots[s].free(f.session, now: f.at)
            }
            for (id, live) in (state.live[key] ?? [:]).sorted(by: { $0.key < $1.key }) where id < sw.maxSessions {
                book.slots[s].restore(live.session)
                do {
                    // A store is not trusted more than a request: a record that points a stream
                    // where the relay never sends is dropped, not restored.
                    try validate(live.request, on: sw)
                    try open(session: live.session, on: s, request: live.request, book: &book)
                } catch {
                    logger.error("session store: cannot restore \(sw.name):\(live.session): \(error)")
                    book.slots[s].free(live.session, now: clock.wallSeconds())
                    lost += 1
                    continue
                }
                let g = layout.global(switchboard: s, id: id)
                let l = layout.local(of: g)
                shard(of: g).withLock { sh in
                    for side in GateSide.allCases {
                        for j in 0..<2 {
                            if let e = live.latches[side.rawValue][j] {
                                let leg = sh.leg(l, side, j)
                                leg.pointee.latched = PeerAddress(e)
                                leg.pointee.learnsFirstSource = false
                            }
                        }
                    }
                    sh.sessions[l].touchedAt = now
                }
                restored += 1
            }
        }
        let known = Set(switchboards.all.map { $0.name.lowercased() })
        for name in Set(state.live.keys).subtracting(known) where !(state.live[name] ?? [:]).isEmpty {
            logger.warning("session store: switchboard '\(name)' is no longer configured; its sessions are dropped")
        }
        if restored > 0 || lost > 0 { logger.info("session store \(store.location): restored \(restored) session(s), lost \(lost)") }
        compactStore(book: book)
    }

    /// Rewrites the store to the live state (book lock held).
    func compactStore(book: borrowing SessionBook) {
        guard let store else { return }
        var records: [JournalRecord] = []
        for (s, sw) in switchboards.all.enumerated() {
            for id in 0..<sw.maxSessions {
                let handle = SessionHandle(id: id, created: book.slots[s].created[id])
                switch book.slots[s].states[id] {
                case .free:
                    continue
                case .resting(let since):
                    records.append(.freed(switchboard: sw.name, session: handle, at: since))
                case .inUse:
                    let g = layout.global(switchboard: s, id: id)
                    let l = layout.local(of: g)
                    records.append(.allocated(switchboard: sw.name, session: handle, request: book.requests[g]))
                    let latches: [JournalRecord] = shard(of: g).withLock { sh in
                        var latches: [JournalRecord] = []
                        for side in GateSide.allCases {
                            for j in 0..<2 {
                                let leg = sh.leg(l, side, j)
                                leg.pointee.latchChanged = false
                                if let e = leg.pointee.latched.endpoint {
                                    latches.append(.latched(switchboard: sw.name, session: handle, side: side, stream: j, source: e))
                                }
                            }
                        }
                        return latches
                    }
                    records.append(contentsOf: latches)
                }
            }
        }
        do {
            try store.rewrite(records)
        } catch {
            logger.error("session store \(store.location): compaction failed: \(error)")
        }
    }
}
