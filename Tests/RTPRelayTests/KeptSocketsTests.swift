import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Testing
@testable import RTPRelay

/// Sockets kept across sessions (`RelayConfiguration.keptSessions`): what an operator sees of
/// them from outside (ports bound or free, descriptors, media of the next call) and what a
/// stranger sending to a kept port gets.
@Suite("relay: sockets kept for the next session on a slot")
struct KeptSocketsTests {
    /// True when `address:port` (UDP) can be bound now: no socket of the relay holds it.
    static func isFree(_ address: String, _ port: UInt16) -> Bool {
        guard let fd = try? Socket.udp(boundTo: Endpoint(address: IPAddress(address)!, port: port)) else { return false }
        close(fd)
        return true
    }

    /// The socket inodes of session `id`'s four legs (A RTP, A RTCP, B RTP, B RTCP); 0 for a leg
    /// without a socket. A socket opened anew has a new inode, whatever descriptor number it gets.
    static func socketInodes(_ engine: RelayEngine, id: Int) -> [UInt] {
        let ops = engine.operations
        let g = ops.layout.global(switchboard: 0, id: id)
        let l = ops.layout.local(of: g)
        return ops.shard(of: g).withLock { sh in
            (0..<4).map { k in
                var st = stat()
                let fd = sh.legs[4 * l + k].fd
                return fd >= 0 && fstat(fd, &st) == 0 ? UInt(st.st_ino) : 0
            }
        }
    }

    @Test("a deleted session's four ports stay bound; the next session on the slot takes its sockets (no descriptor opened) and forwards both ways")
    func reusedByTheNextSession() throws {
        let h = try RelayHarness(gateA: "127.0.81.1", gateB: "127.0.81.2", port: 38500, maxSessions: 1, resurrection: 0)
        defer { h.engine.stop() }
        let alice = try UDPPeer("127.0.81.10", 38600)
        let bob = try UDPPeer("127.0.81.20", 38700)
        let bobRTCP = try UDPPeer("127.0.81.20", 38701)
        let call = bothSides(sideRequest(.a, "127.0.81.10", 38600), sideRequest(.b, "127.0.81.20", 38700))
        let first = try h.engine.allocateSession(switchboard: "pub", request: call)
        alice.send(payload("one"), to: "127.0.81.1", first.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("one"))
        try h.engine.deleteSessions(switchboard: "pub", ids: first.handle.id...first.handle.id, created: first.handle.created)

        for (address, port) in [("127.0.81.1", first.rtpPorts[0]), ("127.0.81.1", first.rtpPorts[0] + 1),
                                ("127.0.81.2", first.rtpPorts[1]), ("127.0.81.2", first.rtpPorts[1] + 1)] {
            #expect(!KeptSocketsTests.isFree(address, port), "\(address):\(port) is kept bound")
        }
        let kept = KeptSocketsTests.socketInodes(h.engine, id: first.handle.id)
        #expect(kept.allSatisfy { $0 != 0 })
        let second = try h.engine.allocateSession(switchboard: "pub", request: call)
        #expect(KeptSocketsTests.socketInodes(h.engine, id: second.handle.id) == kept, "the second session opened no socket")
        #expect(second.rtpPorts == first.rtpPorts && second.handle.created > first.handle.created)
        alice.send(payload("two-a"), to: "127.0.81.1", second.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("two-a"))
        bob.send(payload("two-b"), to: "127.0.81.2", second.rtpPorts[1])
        #expect(alice.receive()?.payload == payload("two-b"))
        alice.send(payload("two-rtcp"), to: "127.0.81.1", second.rtpPorts[0] + 1)
        #expect(bobRTCP.receive()?.payload == payload("two-rtcp"))
    }

    @Test("what reaches a kept port between two calls is read and dropped: nothing forwarded, the next call's media unaffected, and the old client is not latched by the next call")
    func strangersOnAKeptPortGetNothing() throws {
        let h = try RelayHarness(gateA: "127.0.82.1", gateB: "127.0.82.2", port: 38500, maxSessions: 1, resurrection: 0)
        defer { h.engine.stop() }
        let alice = try UDPPeer("127.0.82.10", 38600)
        let bob = try UDPPeer("127.0.82.20", 38700)
        let carol = try UDPPeer("127.0.82.30", 38800)
        let first = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.82.10", 38600), sideRequest(.b, "127.0.82.20", 38700)))
        alice.send(payload("latch"), to: "127.0.82.1", first.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("latch"))
        try h.engine.deleteSessions(switchboard: "pub", ids: first.handle.id...first.handle.id, created: first.handle.created)

        // Late media of the ended call, on both gates: read and dropped.
        alice.send(20, "late-a", to: "127.0.82.1", first.rtpPorts[0])
        bob.send(20, "late-b", to: "127.0.82.2", first.rtpPorts[1])
        #expect(bob.receive(within: 300) == nil && alice.receive(within: 100) == nil)

        // The next call on the slot is between carol and bob; alice's packets stay unlatched.
        let second = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.82.30", 38800), sideRequest(.b, "127.0.82.20", 38700)))
        #expect(second.rtpPorts == first.rtpPorts)
        alice.send(5, "intruder", to: "127.0.82.1", second.rtpPorts[0])
        carol.send(payload("carol"), to: "127.0.82.1", second.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("carol"))
        #expect(bob.drain().isEmpty, "nothing of alice's reached bob")
        let counters = try h.engine.streamCounters(id: second.handle.id, .a, 0, waitingFor: .unknownSource, atLeast: 5)
        #expect(counters.packets == 1 && counters[.unknownSource] == 5, "the new session counts only its own traffic")
    }

    @Test("keptSessions 0: a deleted session's ports are free at once (sockets closed, as before)")
    func noneKept() throws {
        let h = try RelayHarness(gateA: "127.0.83.1", gateB: "127.0.83.2", port: 38500, maxSessions: 1, resurrection: 0, keptSessions: 0)
        defer { h.engine.stop() }
        let s = try h.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        #expect(!KeptSocketsTests.isFree("127.0.83.1", s.rtpPorts[0]))
        try h.engine.deleteSessions(switchboard: "pub", ids: s.handle.id...s.handle.id, created: s.handle.created)
        #expect(KeptSocketsTests.isFree("127.0.83.1", s.rtpPorts[0]) && KeptSocketsTests.isFree("127.0.83.2", s.rtpPorts[1] + 1))
    }

    @Test("at most keptSessions freed sessions keep their sockets; the relay's stop closes every kept socket")
    func limitAndStop() throws {
        let h = try RelayHarness(gateA: "127.0.84.1", gateB: "127.0.84.2", port: 38500, maxSessions: 3, resurrection: 0, keptSessions: 2)
        let sessions = try (0..<3).map { _ in try h.engine.allocateSession(switchboard: "pub", request: SessionRequest()) }
        for s in sessions {
            try h.engine.deleteSessions(switchboard: "pub", ids: s.handle.id...s.handle.id, created: s.handle.created)
        }
        let bound = sessions.filter { !KeptSocketsTests.isFree("127.0.84.1", $0.rtpPorts[0]) }
        #expect(bound.map(\.handle.id) == [0, 1], "the first two freed kept their sockets, the third closed its own")
        h.engine.stop()
        for s in sessions {
            #expect(KeptSocketsTests.isFree("127.0.84.1", s.rtpPorts[0]) && KeptSocketsTests.isFree("127.0.84.2", s.rtpPorts[1]))
        }
    }

    @Test("the limits: every slot by default; live and kept sessions within three quarters of the file limit (four sockets each)")
    func limitArithmetic() {
        #expect(SessionOperations.keptSessionLimit(requested: nil, slots: 700) == 700)
        #expect(SessionOperations.keptSessionLimit(requested: 100, slots: 700) == 100)
        #expect(SessionOperations.keptSessionLimit(requested: 5000, slots: 700) == 700)
        #expect(SessionOperations.keptSessionLimit(requested: 0, slots: 700) == 0)
        #expect(SessionOperations.descriptorBudget(fileLimit: 1024) == 192)
        #expect(SessionOperations.descriptorBudget(fileLimit: 160) == 30)
        #expect(SessionOperations.descriptorBudget(fileLimit: Int.max) > 1 << 50)
    }
}
