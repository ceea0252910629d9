import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Logging

/// Opening and freeing one session: its four sockets, its legs, its slot (book lock held).
extension SessionOperations {
    /// A request whose address is of another family than its side's gate cannot be relayed, one
    /// that names a relay port as a client would make the relay send to itself (a loop), and one
    /// that names the relay's host, a broadcast or a multicast address is refused
    /// (`DestinationPolicy`). 0.0.0.0 and :: pass: they are hold.
    func validate(_ request: SessionRequest, on sw: Switchboard) throws {
        for side in GateSide.allCases {
            for stream in request[side].streams {
                guard let a = stream.address else { continue }
                if let why = destinations.refusal(of: a.address, from: sw.gate(side)) {
                    throw MediaPlaneError("switchboard '\(sw.name)': side \(side.letter) client \(a) \(why); the relay sends only to phones")
                }
                let plain = a.address.mappedV4 ?? a.address
                for other in switchboards.all {
                    for gate in [other.gateA, other.gateB] where gate.address == a.address || gate.address == plain {
                        let first = Int(gate.basePort), last = first + 2 * other.maxSessions - 1
                        if (first...last).contains(Int(a.port)) {
                            throw MediaPlaneError(
                                "switchboard '\(sw.name)': side \(side.letter) client \(a) is a port of the relay itself (switchboard '\(other.name)')")
                        }
                    }
                }
            }
            if let refusal = sw.addressFamilyRefusal(of: request[side], on: side) { throw refusal }
        }
    }

    /// Binds the session's four sockets, fills its legs and registers them with its shard's
    /// forwarding thread. A warm slot's kept sockets are taken as they are (bound and registered
    /// already). In shared-socket mode it binds nothing: the ports are the steering's already,
    /// and the legs are found by port.
    func open(session handle: SessionHandle, on s: Int, request: SessionRequest, book: inout SessionBook) throws {
        let sw = switchboards.all[s]
        let g = layout.global(switchboard: s, id: handle.id)
        let l = layout.local(of: g)
        let kept = book.sharedSockets ? nil : keptSockets(of: g)
        let fds = book.sharedSockets
            ? Array(repeating: StreamLeg.sharedSocket, count: 4) : try kept ?? bindPorts(of: handle, on: sw, book: &book)
        let now = clock.monotonicNanoseconds()
        let limit = floodLimit.overridden(by: sw)
        let registered: (any Error)? = shard(of: g).withLock { sh in
            sh.sessions[l].inUse = true
            sh.sessions[l].created = handle.created
            sh.sessions[l].allocatedAt = now
            sh.sessions[l].touchedAt = now
            for side in GateSide.allCases {
                for j in 0..<2 {
                    let k = SessionShard.leg(local: l, side: side, stream: j)
                    sh.legs[k] = StreamLeg(fd: fds[k - 4 * l], limit: limit, now: now)
                    sh.legs[k].apply(
                        request[side].streams[j], alwaysLearn: request[side].alwaysLearn, signal: request[side].signal, now: now,
                        defaultLearningTimeout: defaultLearningTimeout)
                    sh.legs[k].latchChanged = false
                }
                if let ice = request[side].ice { sh.setICE(ice, local: l, side: side) }
            }
            do {
                for k in 0..<4 where fds[k] >= 0 && kept == nil { try sh.register(fd: fds[k], leg: 4 * l + k) }
                return nil
            } catch {
                return error
            }
        }
        book.requests[g] = request
        if let registered {
            // Not kept: a socket that failed to register would never be read.
            _ = free(session: g, book: &book, keepingSockets: false)
            throw registered
        }
    }

    /// The four sockets of a session (A RTP, A RTCP, B RTP, B RTCP), bound to its ports. Out of
    /// descriptors (EMFILE, ENFILE), it closes some kept sockets of other slots and tries once more.
    private func bindPorts(of handle: SessionHandle, on sw: Switchboard, book: inout SessionBook) throws -> [Int32] {
        do {
            return try bindPorts(of: handle, on: sw)
        } catch let error as SystemError where error.code == EMFILE || error.code == ENFILE {
            guard releaseKeptSockets(atMost: SessionOperations.releasedOnDescriptorShortage, book: &book) > 0 else { throw error }
            return try bindPorts(of: handle, on: sw)
        }
    }

    private func bindPorts(of handle: SessionHandle, on sw: Switchboard) throws -> [Int32] {
        var fds: [Int32] = []
        do {
            for side in GateSide.allCases {
                let gate = sw.gate(side)
                for j in 0..<2 {
                    let port = UInt16(truncatingIfNeeded: Int(gate.rtpPort(session: handle.id)) + j)
                    fds.append(try Socket.udp(
                        boundTo: Endpoint(address: gate.address, port: port), receiveBuffer: SessionOperations.receiveBufferBytes))
                }
            }
        } catch {
            for fd in fds { close(fd) }
            throw error
        }
        return fds
    }

    /// Closes a live session's sockets (or keeps them for the slot's next session, see
    /// `keepsSockets`), keeps its counters in the switchboard's totals, takes it out of the kernel
    /// and lets its slot rest. Returns the record for the store. With a `reason` ("deleted",
    /// "expired") it logs one line with the call's final figures per side.
    func free(session g: Int, book: inout SessionBook, reason: String? = nil, keepingSockets: Bool = true) -> JournalRecord {
        let s = layout.switchboard(of: g)
        let sw = switchboards.all[s]
        let id = g - layout.bases[s]
        let l = layout.local(of: g)
        let handle = SessionHandle(id: id, created: book.slots[s].created[id])
        let now = clock.monotonicNanoseconds()
        let wallNow = clock.wallSeconds()
        let keeps = keepingSockets && keepsSockets(book)
        let (sides, age, offloaded, kept): ([StreamCounters], Int64, [Int], Bool) = shard(of: g).withLock { sh in
            var sides = [StreamCounters(), StreamCounters()]
            var offloaded: [Int] = []
            let kept = keeps && sh.ownSockets(local: l) != nil
            for k in 0..<4 {
                let leg = sh.legs + (4 * l + k)
                sides[k >> 1].add(leg.pointee.counters { SessionOperations.wall($0, now: now, wallNow: wallNow) })
                if leg.pointee.offloaded && k & 2 == 0 { offloaded.append(k & 1) }
                let fd = leg.pointee.fd
                leg.pointee = StreamLeg()
                if kept {
                    // Bound and registered as it was; a leg no request described drops all it reads.
                    leg.pointee.fd = fd
                } else if fd >= 0 {
                    // Closing the socket also takes it out of the epoll set.
                    close(fd)
                }
            }
            sh.sessions[l].inUse = false
            sh.clearICE(local: l)
            return (sides, now - sh.sessions[l].allocatedAt, offloaded, kept)
        }
        // Asked first: where the line is dropped (an embedded relay under Kamailio's usual levels)
        // its metadata is not built either.
        if let reason, logger.logLevel <= .info {
            // One line per call with its final figures: what each side's client sent.
            var metadata: Logger.Metadata = ["switchboard": "\(sw.name)", "session": "\(handle)", "age": "\(max(0, age) / 1_000_000_000)s"]
            if let call = book.requests[g].call {
                metadata["call-id"] = "\(call.callID)"
                if let tag = call.fromTag { metadata["from-tag"] = "\(tag)" }
            }
            logger.info(
                "session \(reason): side a \(SessionOperations.summary(sides[0])); side b \(SessionOperations.summary(sides[1]))",
                metadata: metadata)
        }
        var counters = sides[0]
        counters.add(sides[1])
        // A freed session's jitter is history: the switchboard's jitter is that of live streams.
        counters.jitterMicroseconds = nil
        book.retired[s].add(counters)
        for side in 0..<2 { book.retiredSides[s][side].add(sides[side]) }
        offload?.remove(offloaded.map { OffloadedStream.Key(switchboard: sw.name, session: handle, stream: $0) })
        book.slots[s].free(handle, now: wallNow)
        if kept { book.slots[s].setWarm(id, true) }
        book.requests[g] = SessionRequest()
        return .freed(switchboard: sw.name, session: handle, at: wallNow)
    }

    /// One side's final figures for the log: `packets=.. bytes=.. expected=.. lost=.. (..%) jitter=..ms`.
    static func summary(_ c: StreamCounters) -> String {
        var text = "packets=\(c.packets) bytes=\(c.bytes) expected=\(c.expected) lost=\(c.lost)"
        if c.lost > 0 && c.expected > 0 {
            let permille = Int(c.lossFraction * 1000)
            text += " (\(permille / 10).\(permille % 10)%)"
        }
        if let us = c.jitterMicroseconds {
            text += " jitter=\(us / 1000).\(us % 1000 / 100)ms"
        } else {
            text += " jitter=-"
        }
        if c.dropped > 0 { text += " dropped=\(c.dropped)" }
        return text
    }

    /// Receive buffer asked for each relay socket; root may exceed net.core.rmem_max.
    static let receiveBufferBytes: Int32 = 1 << 20
}
