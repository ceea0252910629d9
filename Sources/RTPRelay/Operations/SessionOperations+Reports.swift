import IPTRTPProxyCore

/// What `info`, `list` and `stats` report, read consistently under the locks.
extension SessionOperations {
    /// Sessions in use per switchboard, and the uptime in seconds.
    func usage() -> (inUse: [Int], kept: [Int], uptime: UInt64) {
        book.withLock { book in (book.slots.map(\.inUseCount), book.slots.map(\.warm.count), uptime(book)) }
    }

    /// The live sessions of `switchboard` (all when nil), by switchboard then id.
    func list(switchboard name: String?) throws -> SessionListing {
        var chosen = Array(switchboards.all.indices)
        if let name {
            guard let s = switchboards.index(named: name) else { throw MediaPlaneError("unknown switchboard '\(name)'") }
            chosen = [s]
        }
        return book.withLock { book in
            let now = clock.monotonicNanoseconds(), wallNow = clock.wallSeconds()
            var sessions: [SessionSnapshot] = []
            for s in chosen {
                let sw = switchboards.all[s]
                for id in 0..<sw.maxSessions where book.slots[s].states[id] == .inUse {
                    let g = layout.global(switchboard: s, id: id)
                    sessions.append(snapshot(session: g, now: now, wallNow: wallNow, call: book.requests[g].call))
                }
            }
            return SessionListing(sessions: sessions)
        }
    }

    /// Relay-wide counters since start.
    func statistics() -> RelayStatistics {
        book.withLock { book in
            let now = clock.monotonicNanoseconds(), wallNow = clock.wallSeconds()
            var perSwitchboard = book.retired
            for shard in shards {
                shard.withLock { sh in
                    for l in 0..<sh.count where sh.sessions[l].inUse {
                        for k in 0..<4 {
                            perSwitchboard[sh.sessions[l].switchboard].add(
                                sh.legs[4 * l + k].counters { SessionOperations.wall($0, now: now, wallNow: wallNow) })
                        }
                    }
                }
            }
            var total = StreamCounters()
            for c in perSwitchboard { total.add(c) }
            let t = book.tallies
            return RelayStatistics(
                uptime: uptime(book), sessionsActive: book.activeSessionCount, sessionsAllocated: t.allocated,
                sessionsDeleted: t.deleted, sessionsExpired: t.expired,
                allocationFailures: t.allocationFailures, controlRequests: t.controlRequests,
                controlErrors: t.controlErrors, counters: total,
                switchboards: switchboards.all.enumerated().map { s, sw in
                    RelayStatistics.SwitchboardStatistics(
                        name: sw.name, sessionsActive: book.slots[s].inUseCount, counters: perSwitchboard[s])
                }, store: store?.health, offload: offload?.statistics)
        }
    }

    /// Per switchboard, per side ([a, b]): the counters of what that side's clients sent, freed
    /// sessions included (the metrics' packets per direction).
    func sideStatistics() -> [[StreamCounters]] {
        book.withLock { book in
            let now = clock.monotonicNanoseconds(), wallNow = clock.wallSeconds()
            var perSide = book.retiredSides
            for shard in shards {
                shard.withLock { sh in
                    for l in 0..<sh.count where sh.sessions[l].inUse {
                        for k in 0..<4 {
                            perSide[sh.sessions[l].switchboard][k >> 1].add(
                                sh.legs[4 * l + k].counters { SessionOperations.wall($0, now: now, wallNow: wallNow) })
                        }
                    }
                }
            }
            return perSide
        }
    }

    /// Counts a control request and whether it failed (for `stats`).
    func noteControlRequest(failed: Bool) {
        book.withLock { book in
            book.tallies.controlRequests += 1
            if failed { book.tallies.controlErrors += 1 }
        }
    }

    func uptime(_ book: borrowing SessionBook) -> UInt64 {
        book.serving ? UInt64(max(0, clock.monotonicNanoseconds() - book.startedAt) / 1_000_000_000) : 0
    }

    /// One session (book lock held).
    func snapshot(session g: Int, now: Int64, wallNow: UInt32, call: CallIdentity? = nil) -> SessionSnapshot {
        let s = layout.switchboard(of: g)
        let sw = switchboards.all[s]
        let id = g - layout.bases[s]
        let l = layout.local(of: g)
        return shard(of: g).withLock { sh in
            let state = sh.sessions[l]
            var lastActivity = max(state.allocatedAt, state.touchedAt)
            var sides: [SideSnapshot] = []
            for side in GateSide.allCases {
                var streams: [StreamSnapshot] = []
                for j in 0..<2 {
                    let leg = sh.leg(l, side, j).pointee
                    lastActivity = max(lastActivity, leg.lastPacket)
                    let windowOpen = leg.learningEnds > now
                    streams.append(StreamSnapshot(
                        gatePort: UInt16(truncatingIfNeeded: Int(sw.gate(side).rtpPort(session: id)) + j),
                        expected: leg.expected.endpoint, latched: leg.latched.endpoint,
                        learning: leg.described && (windowOpen || leg.alwaysLearn || (leg.learnsFirstSource && !leg.latched.isSet)),
                        learningLeft: windowOpen ? UInt32((leg.learningEnds - now + 999_999_999) / 1_000_000_000) : nil,
                        offloaded: leg.offloaded,
                        counters: leg.counters { SessionOperations.wall($0, now: now, wallNow: wallNow) },
                        held: leg.held, signal: leg.signal.endpoint?.address,
                        jitter: leg.reception.jitter,
                        clockRate: leg.reception.clockRate == 0 ? nil : leg.reception.clockRate))
                }
                sides.append(SideSnapshot(side: side, alwaysLearn: sh.leg(l, side, 0).pointee.alwaysLearn, streams: streams))
            }
            return SessionSnapshot(
                switchboard: sw.name, handle: SessionHandle(id: id, created: state.created),
                rtpPorts: [sw.gateA.rtpPort(session: id), sw.gateB.rtpPort(session: id)],
                age: UInt32(max(0, now - state.allocatedAt) / 1_000_000_000),
                idle: UInt32(max(0, now - lastActivity) / 1_000_000_000), sides: sides, call: call)
        }
    }
}
