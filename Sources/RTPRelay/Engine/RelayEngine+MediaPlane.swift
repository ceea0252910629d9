import Glibc
import IPTRTPProxyCore

/// The engine as a `MediaPlane`: alloc binds a session's four sockets and starts forwarding,
/// update re-points it, delete closes it. Every change is journaled before the call returns.
extension RelayEngine: MediaPlane {
    /// How many slots an allocation tries when binding fails (a port taken by another program).
    static let bindAttempts = 4

    public func allocateSession(switchboard name: String, request: SessionRequest) throws -> AllocatedSession {
        try control.withLock {
            let s = try resolve(name)
            let sw = switchboards.all[s]
            try validate(request, on: sw)
            var lastError: Error? = nil
            for _ in 0..<RelayEngine.bindAttempts {
                guard let handle = slots[s].allocate(now: clock.wallSeconds()) else {
                    tallies.allocationFailures += 1
                    throw MediaPlaneError("switchboard '\(sw.name)': all \(sw.maxSessions) sessions are in use or resting")
                }
                do {
                    try open(session: handle, on: s, request: request)
                } catch {
                    slots[s].free(handle, now: clock.wallSeconds())
                    lastError = error
                    continue
                }
                tallies.allocated += 1
                appendJournal([.allocated(switchboard: sw.name, session: handle, request: request)])
                return AllocatedSession(
                    handle: handle, rtpPorts: [sw.gateA.rtpPort(session: handle.id), sw.gateB.rtpPort(session: handle.id)])
            }
            tallies.allocationFailures += 1
            throw MediaPlaneError("switchboard '\(sw.name)': cannot open session ports: \(lastError.map { "\($0)" } ?? "?")")
        }
    }

    public func updateSession(switchboard name: String, session: SessionHandle, request: SessionRequest) throws {
        try control.withLock {
            let s = try resolve(name)
            let sw = switchboards.all[s]
            guard slots[s].isLive(session) else { throw MediaPlaneError("switchboard '\(sw.name)': no session \(session)") }
            try validate(request, on: sw)
            let handle = SessionHandle(id: session.id, created: slots[s].created[session.id])
            let g = table.bases[s] + session.id
            let now = clock.monotonicNanoseconds()
            var unload: [OffloadedStream.Key] = []
            worker(of: g).lock.withLock {
                for side in GateSide.allCases where !request[side].isEmpty {
                    for j in 0..<2 {
                        let leg = table.legs + SessionTable.leg(session: g, side: side, stream: j)
                        leg.pointee.apply(
                            request[side].streams[j], alwaysLearn: request[side].alwaysLearn, now: now,
                            defaultLearningTimeout: configuration.defaultLearningTimeout)
                        // A re-pointed stream leaves the kernel at once; it goes back once both
                        // clients are latched again.
                        if leg.pointee.offloaded && !isFixed(g, stream: j) {
                            unload.append(OffloadedStream.Key(switchboard: sw.name, session: handle, stream: j))
                            for side in GateSide.allCases {
                                table.legs[SessionTable.leg(session: g, side: side, stream: j)].offloaded = false
                            }
                        }
                    }
                }
                table.sessions[g].touchedAt = now
            }
            for key in unload { configuration.offload?.remove(key) }
            requests[g] = requests[g].merging(request)
            appendJournal([.updated(switchboard: sw.name, session: handle, request: request)])
        }
    }

    public func deleteSessions(switchboard name: String, ids: ClosedRange<Int>, created: UInt32) throws {
        try control.withLock {
            let s = try resolve(name)
            let sw = switchboards.all[s]
            guard slots[s].isLive(SessionHandle(id: ids.lowerBound, created: created)) else {
                throw MediaPlaneError("switchboard '\(sw.name)': no session \(ids.lowerBound)/\(created)")
            }
            var records: [JournalRecord] = []
            for id in ids where id < sw.maxSessions && slots[s].states[id] == .inUse {
                records.append(free(session: table.bases[s] + id))
                tallies.deleted += 1
            }
            appendJournal(records)
        }
    }

    // MARK: Opening and freeing sessions (control lock held)

    /// A request whose address is of another family than its side's gate cannot be relayed, and
    /// one that names a relay port as a client would make the relay send to itself (a loop).
    func validate(_ request: SessionRequest, on sw: Switchboard) throws {
        for side in GateSide.allCases {
            for stream in request[side].streams {
                guard let a = stream.address else { continue }
                for other in switchboards.all {
                    for gate in [other.gateA, other.gateB] where gate.address == a.address {
                        let first = Int(gate.basePort), last = first + 2 * other.maxSessions - 1
                        if (first...last).contains(Int(a.port)) {
                            throw MediaPlaneError(
                                "switchboard '\(sw.name)': side \(side.letter) client \(a) is a port of the relay itself (switchboard '\(other.name)')")
                        }
                    }
                }
            }
            let gateIsV6: Bool
            if case .v6 = sw.gate(side).address { gateIsV6 = true } else { gateIsV6 = false }
            for stream in request[side].streams {
                guard let a = stream.address else { continue }
                let isV6: Bool
                if case .v6 = a.address { isV6 = true } else { isV6 = false }
                if isV6 != gateIsV6 {
                    throw MediaPlaneError(
                        "switchboard '\(sw.name)': side \(side.letter) client \(a) is \(isV6 ? "IPv6" : "IPv4") but gate \(side.letter.uppercased()) is \(gateIsV6 ? "IPv6" : "IPv4")")
                }
            }
        }
    }

    /// Binds the session's four sockets, fills its legs and registers them with its worker.
    func open(session handle: SessionHandle, on s: Int, request: SessionRequest) throws {
        let sw = switchboards.all[s]
        let g = table.bases[s] + handle.id
        var fds: [Int32] = []
        do {
            for side in GateSide.allCases {
                let gate = sw.gate(side)
                for j in 0..<2 {
                    let port = UInt16(truncatingIfNeeded: Int(gate.rtpPort(session: handle.id)) + j)
                    fds.append(try UDPSocket.bound(to: Endpoint(address: gate.address, port: port)))
                }
            }
        } catch {
            for fd in fds { close(fd) }
            throw error
        }
        let now = clock.monotonicNanoseconds()
        let w = worker(of: g)
        w.lock.withLock {
            table.sessions[g].inUse = true
            table.sessions[g].created = handle.created
            table.sessions[g].allocatedAt = now
            table.sessions[g].touchedAt = now
            for side in GateSide.allCases {
                for j in 0..<2 {
                    let k = SessionTable.leg(session: g, side: side, stream: j)
                    table.legs[k] = StreamLeg(fd: fds[k - 4 * g], burst: configuration.floodLimit.burst, now: now)
                    table.legs[k].apply(
                        request[side].streams[j], alwaysLearn: request[side].alwaysLearn, now: now,
                        defaultLearningTimeout: configuration.defaultLearningTimeout)
                    table.legs[k].latchChanged = false
                }
            }
        }
        requests[g] = request
        do {
            for k in 0..<4 { try w.register(fd: fds[k], leg: 4 * g + k) }
        } catch {
            _ = free(session: g)
            throw error
        }
    }

    /// Closes a live session's sockets, keeps its counters in the switchboard's totals, takes it
    /// out of the kernel and lets its slot rest. Returns the journal record to write.
    func free(session g: Int) -> JournalRecord {
        let s = table.sessions[g].switchboard
        let sw = switchboards.all[s]
        let id = g - table.bases[s]
        let handle = SessionHandle(id: id, created: slots[s].created[id])
        let now = clock.monotonicNanoseconds()
        let wallNow = clock.wallSeconds()
        var offloaded: [Int] = []
        worker(of: g).lock.withLock {
            for k in 0..<4 {
                let leg = table.legs + (4 * g + k)
                retired[s].add(leg.pointee.counters { wall($0, now: now, wallNow: wallNow) })
                if leg.pointee.fd >= 0 { close(leg.pointee.fd) }
                if leg.pointee.offloaded && k & 2 == 0 { offloaded.append(k & 1) }
                leg.pointee = StreamLeg()
            }
            table.sessions[g].inUse = false
        }
        for j in offloaded {
            configuration.offload?.remove(OffloadedStream.Key(switchboard: sw.name, session: handle, stream: j))
        }
        slots[s].free(handle, now: wallNow)
        requests[g] = SessionRequest()
        return .freed(switchboard: sw.name, session: handle, at: wallNow)
    }

    /// Both clients of stream `j` of session `g` are latched and fixed (worker lock held).
    func isFixed(_ g: Int, stream j: Int) -> Bool {
        let a = table.legs[SessionTable.leg(session: g, side: .a, stream: j)]
        let b = table.legs[SessionTable.leg(session: g, side: .b, stream: j)]
        return a.latched.isSet && b.latched.isSet && !a.alwaysLearn && !b.alwaysLearn
    }
}
