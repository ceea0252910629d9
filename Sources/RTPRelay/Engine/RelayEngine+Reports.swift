import IPTRTPProxyCore

/// What `info`, `list` and `stats` report, read consistently under the locks.
extension RelayEngine {
    /// The relay and its switchboards.
    public func info() -> RelayInfo {
        control.withLock {
            RelayInfo(
                relayVersion: configuration.version, uptime: uptime(), workers: configuration.workerCount,
                offload: configuration.offload?.name ?? "none", journal: configuration.journalPath,
                switchboards: switchboards.all.enumerated().map { s, sw in
                    RelayInfo.SwitchboardInfo(switchboard: sw, sessionsInUse: slots[s].inUseCount)
                })
        }
    }

    /// The live sessions of `switchboard` (all when nil), by switchboard then id.
    public func list(switchboard name: String? = nil) throws -> SessionListing {
        try control.withLock {
            var chosen = Array(switchboards.all.indices)
            if let name {
                guard let s = switchboards.index(named: name) else { throw MediaPlaneError("unknown switchboard '\(name)'") }
                chosen = [s]
            }
            let now = clock.monotonicNanoseconds(), wallNow = clock.wallSeconds()
            var sessions: [SessionSnapshot] = []
            for s in chosen {
                let sw = switchboards.all[s]
                for id in 0..<sw.maxSessions where slots[s].states[id] == .inUse {
                    sessions.append(snapshot(session: table.bases[s] + id, now: now, wallNow: wallNow))
                }
            }
            return SessionListing(sessions: sessions)
        }
    }

    /// Relay-wide counters since start.
    public func statistics() -> RelayStatistics {
        control.withLock {
            let now = clock.monotonicNanoseconds(), wallNow = clock.wallSeconds()
            var perSwitchboard = retired
            for (wi, w) in workers.enumerated() {
                w.lock.withLock {
                    var g = wi
                    while g < table.sessionCount {
                        defer { g += workers.count }
                        guard table.sessions[g].inUse else { continue }
                        for k in 0..<4 {
                            perSwitchboard[table.sessions[g].switchboard].add(
                                table.legs[4 * g + k].counters { wall($0, now: now, wallNow: wallNow) })
                        }
                    }
                }
            }
            var total = StreamCounters()
            for c in perSwitchboard { total.add(c) }
            return RelayStatistics(
                uptime: uptime(), sessionsActive: activeSessionCount(), sessionsAllocated: tallies.allocated,
                sessionsDeleted: tallies.deleted, sessionsExpired: tallies.expired,
                allocationFailures: tallies.allocationFailures, controlRequests: tallies.controlRequests,
                controlErrors: tallies.controlErrors, counters: total,
                switchboards: switchboards.all.enumerated().map { s, sw in
                    RelayStatistics.SwitchboardStatistics(
                        name: sw.name, sessionsActive: slots[s].inUseCount, counters: perSwitchboard[s])
                })
        }
    }

    /// Counts a control request and whether it failed (for `stats`).
    func noteControlRequest(failed: Bool) {
        control.withLock {
            tallies.controlRequests += 1
            if failed { tallies.controlErrors += 1 }
        }
    }

    func uptime() -> UInt64 {
        running ? UInt64(max(0, clock.monotonicNanoseconds() - startedAt) / 1_000_000_000) : 0
    }

    /// One session (control lock held).
    func snapshot(session g: Int, now: Int64, wallNow: UInt32) -> SessionSnapshot {
        let s = table.sessions[g].switchboard
        let sw = switchboards.all[s]
        let id = g - table.bases[s]
        return worker(of: g).lock.withLock {
            let state = table.sessions[g]
            var lastActivity = max(state.allocatedAt, state.touchedAt)
            var sides: [SideSnapshot] = []
            for side in GateSide.allCases {
                var streams: [StreamSnapshot] = []
                for j in 0..<2 {
                    let leg = table.legs[SessionTable.leg(session: g, side: side, stream: j)]
                    lastActivity = max(lastActivity, leg.lastPacket)
                    let windowOpen = leg.learningEnds > now
                    streams.append(StreamSnapshot(
                        gatePort: UInt16(truncatingIfNeeded: Int(sw.gate(side).rtpPort(session: id)) + j),
                        expected: leg.expected.endpoint, latched: leg.latched.endpoint,
                        learning: windowOpen || leg.alwaysLearn || (leg.learnsFirstSource && !leg.latched.isSet),
                        learningLeft: windowOpen ? UInt32((leg.learningEnds - now + 999_999_999) / 1_000_000_000) : nil,
                        offloaded: leg.offloaded,
                        counters: leg.counters { wall($0, now: now, wallNow: wallNow) }))
                }
                let alwaysLearn = table.legs[SessionTable.leg(session: g, side: side, stream: 0)].alwaysLearn
                sides.append(SideSnapshot(side: side, alwaysLearn: alwaysLearn, streams: streams))
            }
            return SessionSnapshot(
                switchboard: sw.name, handle: SessionHandle(id: id, created: state.created),
                rtpPorts: [sw.gateA.rtpPort(session: id), sw.gateB.rtpPort(session: id)],
                age: UInt32(max(0, now - state.allocatedAt) / 1_000_000_000),
                idle: UInt32(max(0, now - lastActivity) / 1_000_000_000), sides: sides)
        }
    }
}
