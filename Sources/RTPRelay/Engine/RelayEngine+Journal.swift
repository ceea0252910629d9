import Glibc
import IPTRTPProxyCore

/// Restoring sessions from the journal at start, and compacting it.
extension RelayEngine {
    /// Replays the journal (control lock held, workers not yet started): live sessions get their
    /// sockets back with the same ids, stamps and ports and their latches; freed slots keep
    /// resting. Then the journal is rewritten to just that state.
    func restoreJournal() throws {
        guard let journal else { return }
        let (records, skipped) = try journal.read()
        if skipped > 0 { logger.warning("session journal \(journal.path): skipped \(skipped) damaged line(s)") }
        let state = JournalState(replaying: records)
        let now = clock.monotonicNanoseconds()
        var restored = 0, lost = 0
        for (s, sw) in switchboards.all.enumerated() {
            let key = sw.name.lowercased()
            for (id, f) in state.freed[key] ?? [:] where id < sw.maxSessions {
                slots[s].restore(f.session)
                slots[s].free(f.session, now: f.at)
            }
            for (id, l) in (state.live[key] ?? [:]).sorted(by: { $0.key < $1.key }) where id < sw.maxSessions {
                slots[s].restore(l.session)
                do {
                    try open(session: l.session, on: s, request: l.request)
                } catch {
                    logger.error("session journal: cannot restore \(sw.name):\(l.session): \(error)")
                    slots[s].free(l.session, now: clock.wallSeconds())
                    lost += 1
                    continue
                }
                let g = table.bases[s] + id
                worker(of: g).lock.withLock {
                    for side in GateSide.allCases {
                        for j in 0..<2 {
                            if let e = l.latches[side.rawValue][j] {
                                let leg = table.legs + SessionTable.leg(session: g, side: side, stream: j)
                                leg.pointee.latched = PeerAddress(e)
                                leg.pointee.learnsFirstSource = false
                            }
                        }
                    }
                    table.sessions[g].touchedAt = now
                }
                restored += 1
            }
        }
        let known = Set(switchboards.all.map { $0.name.lowercased() })
        for name in Set(state.live.keys).subtracting(known) where !(state.live[name] ?? [:]).isEmpty {
            logger.warning("session journal: switchboard '\(name)' is no longer configured; its sessions are dropped")
        }
        if restored > 0 || lost > 0 { logger.info("session journal: restored \(restored) session(s), lost \(lost)") }
        compactJournal()
    }

    /// Rewrites the journal to the live state (control lock held).
    func compactJournal() {
        guard let journal else { return }
        var records: [JournalRecord] = []
        for (s, sw) in switchboards.all.enumerated() {
            for id in 0..<sw.maxSessions {
                let handle = SessionHandle(id: id, created: slots[s].created[id])
                switch slots[s].states[id] {
                case .free:
                    continue
                case .resting(let since):
                    records.append(.freed(switchboard: sw.name, session: handle, at: since))
                case .inUse:
                    let g = table.bases[s] + id
                    records.append(.allocated(switchboard: sw.name, session: handle, request: requests[g]))
                    worker(of: g).lock.withLock {
                        for side in GateSide.allCases {
                            for j in 0..<2 {
                                let leg = table.legs + SessionTable.leg(session: g, side: side, stream: j)
                                leg.pointee.latchChanged = false
                                if let e = leg.pointee.latched.endpoint {
                                    records.append(.latched(switchboard: sw.name, session: handle, side: side, stream: j, source: e))
                                }
                            }
                        }
                    }
                }
            }
        }
        do {
            try journal.rewrite(records)
        } catch {
            logger.error("session journal: compaction failed: \(error)")
        }
    }
}
