import IPTRTPProxyCore

/// The engine's periodic work, once per housekeeping interval: expire idle sessions, journal
/// moved latches, hand fixed streams to the kernel offload, compact the journal.
extension RelayEngine {
    /// One housekeeping round. The housekeeping thread calls it; a host that runs none (tests)
    /// calls it itself.
    public func housekeep() {
        control.withLock {
            guard running else { return }
            if configuration.offload != nil { refreshOffload() }
            let now = clock.monotonicNanoseconds()
            var expired: [Int] = []
            var records: [JournalRecord] = []
            for (wi, w) in workers.enumerated() {
                w.lock.withLock {
                    var g = wi
                    while g < table.sessionCount {
                        defer { g += workers.count }
                        guard table.sessions[g].inUse else { continue }
                        let s = table.sessions[g].switchboard
                        let sw = switchboards.all[s]
                        let handle = SessionHandle(id: g - table.bases[s], created: table.sessions[g].created)
                        var lastActivity = max(table.sessions[g].allocatedAt, table.sessions[g].touchedAt)
                        var learning = false
                        for side in GateSide.allCases {
                            for j in 0..<2 {
                                let leg = table.legs + SessionTable.leg(session: g, side: side, stream: j)
                                lastActivity = max(lastActivity, leg.pointee.lastPacket)
                                if leg.pointee.learningEnds > now { learning = true }
                                if leg.pointee.latchChanged {
                                    leg.pointee.latchChanged = false
                                    records.append(.latched(
                                        switchboard: sw.name, session: handle, side: side, stream: j,
                                        source: leg.pointee.latched.endpoint))
                                }
                            }
                        }
                        // A session still inside a learning window (a call ringing) is not idle.
                        if !learning && now - lastActivity >= Int64(sw.expiresTimeout) * 1_000_000_000 {
                            expired.append(g)
                        }
                    }
                }
            }
            for g in expired {
                let record = free(session: g)
                records.append(record)
                tallies.expired += 1
                logger.info("session expired", metadata: ["switchboard": "\(record.switchboard)", "session": "\(record.session)"])
            }
            appendJournal(records)
            if let journal, journal.appendedSinceRewrite > max(1024, 4 * activeSessionCount()) {
                compactJournal()
            }
        }
    }

    /// Offload work (control lock held): read the kernel counters of offloaded streams, install
    /// streams that became fixed, follow moved latches, take back streams that are no longer fixed.
    func refreshOffload() {
        guard let offload = configuration.offload else { return }
        struct Work {
            var g: Int
            var stream: OffloadedStream
            var action: Action
        }
        enum Action { case install, update, remove, poll }
        var work: [Work] = []
        for (wi, w) in workers.enumerated() {
            w.lock.withLock {
                var g = wi
                while g < table.sessionCount {
                    defer { g += workers.count }
                    guard table.sessions[g].inUse else { continue }
                    let s = table.sessions[g].switchboard
                    let sw = switchboards.all[s]
                    let id = g - table.bases[s]
                    for j in 0..<2 {
                        let a = table.legs[SessionTable.leg(session: g, side: .a, stream: j)]
                        let b = table.legs[SessionTable.leg(session: g, side: .b, stream: j)]
                        let fixed = isFixed(g, stream: j)
                        let action: Action
                        if a.offloaded {
                            if !fixed { action = .remove }
                            else if a.offloadedPeer != a.latched || b.offloadedPeer != b.latched { action = .update }
                            else { action = .poll }
                        } else if fixed {
                            if a.offloadRefused && a.offloadedPeer == a.latched && b.offloadedPeer == b.latched { continue }
                            action = .install
                        } else {
                            continue
                        }
                        let port = { (gate: Gate) in
                            Endpoint(address: gate.address, port: UInt16(truncatingIfNeeded: Int(gate.rtpPort(session: id)) + j))
                        }
                        let stream = OffloadedStream(
                            key: OffloadedStream.Key(
                                switchboard: sw.name, session: SessionHandle(id: id, created: table.sessions[g].created), stream: j),
                            gates: [port(sw.gateA), port(sw.gateB)],
                            clients: [a.latched.endpoint ?? Endpoint(address: .v4(0), port: 0),
                                      b.latched.endpoint ?? Endpoint(address: .v4(0), port: 0)])
                        work.append(Work(g: g, stream: stream, action: action))
                    }
                }
            }
        }
        guard !work.isEmpty else { return }
        var installed: [(Work, Bool)] = []
        var polled: [(Work, OffloadCounters)] = []
        for item in work {
            switch item.action {
            case .install, .update:
                do {
                    if item.action == .install { try offload.install(item.stream) } else { try offload.update(item.stream) }
                    installed.append((item, true))
                } catch {
                    logger.warning("kernel offload of \(item.stream.key.switchboard):\(item.stream.key.session) stream \(item.stream.key.stream): \(error)")
                    if item.action == .update { offload.remove(item.stream.key) }
                    installed.append((item, false))
                }
            case .remove:
                offload.remove(item.stream.key)
                installed.append((item, false))
            case .poll:
                if let c = offload.counters(item.stream.key) { polled.append((item, c)) }
            }
        }
        let now = clock.monotonicNanoseconds()
        for (item, on) in installed {
            worker(of: item.g).lock.withLock {
                for side in GateSide.allCases {
                    let leg = table.legs + SessionTable.leg(session: item.g, side: side, stream: item.stream.key.stream)
                    leg.pointee.offloaded = on
                    // Remember the clients also on refusal, so that the stream is retried only
                    // when a latch moves.
                    leg.pointee.offloadRefused = !on && item.action != .remove
                    leg.pointee.offloadedPeer = leg.pointee.offloadRefused || on
                        ? PeerAddress(item.stream.clients[side.rawValue]) : .none
                    leg.pointee.offloadPacketsSeen = 0
                    leg.pointee.offloadBytesSeen = 0
                }
            }
        }
        for (item, counters) in polled {
            worker(of: item.g).lock.withLock {
                for side in GateSide.allCases {
                    let leg = table.legs + SessionTable.leg(session: item.g, side: side, stream: item.stream.key.stream)
                    let p = counters.packets[side.rawValue], b = counters.bytes[side.rawValue]
                    if p > leg.pointee.offloadPacketsSeen {
                        leg.pointee.packets &+= p - leg.pointee.offloadPacketsSeen
                        leg.pointee.lastPacket = now
                    }
                    if b > leg.pointee.offloadBytesSeen { leg.pointee.bytes &+= b - leg.pointee.offloadBytesSeen }
                    leg.pointee.offloadPacketsSeen = p
                    leg.pointee.offloadBytesSeen = b
                }
            }
        }
    }
}
