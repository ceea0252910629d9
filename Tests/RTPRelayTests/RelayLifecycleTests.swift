import Glibc
import IPTRTPProxyCore
import Testing
@testable import RTPRelay

@Suite("relay session lifecycle")
struct RelayLifecycleTests {
    @Test("a session without packets for expires-timeout is freed; its slot rests for resurrection-timeout")
    func expiryAndResurrection() throws {
        let h = try RelayHarness(gateA: "127.0.10.1", gateB: "127.0.10.2", port: 31000, maxSessions: 1, expires: 5, resurrection: 10)
        let alice = try UDPPeer("127.0.10.10", 33000)
        let bob = try UDPPeer("127.0.10.20", 34000)
        let s = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.10.10", 33000, learning: 1), sideRequest(.b, "127.0.10.20", 34000, learning: 1)))

        h.time.advance(seconds: 3)
        alice.send(payload("alive"), to: "127.0.10.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("alive"))
        h.time.advance(seconds: 3)
        h.engine.housekeep()
        #expect(try h.engine.list().sessions.count == 1, "a packet 3 s ago keeps it alive")

        h.time.advance(seconds: 3)
        h.engine.housekeep()
        #expect(try h.engine.list().sessions.isEmpty)
        #expect(h.engine.statistics().sessionsExpired == 1)
        alice.send(payload("gone"), to: "127.0.10.1", s.rtpPorts[0])
        #expect(bob.receive(within: 200) == nil)

        // The only slot rests: no session until the resurrection timeout has passed.
        #expect(throws: MediaPlaneError.self) { try h.engine.allocateSession(switchboard: "pub", request: SessionRequest()) }
        h.time.advance(seconds: 10)
        let again = try h.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        #expect(again.handle.id == s.handle.id)
        #expect(again.handle.created > s.handle.created)
        #expect(again.rtpPorts == s.rtpPorts)
        // The old incarnation's id/created no longer names a session.
        #expect(throws: MediaPlaneError.self) { try h.engine.deleteSessions(switchboard: "pub", ids: s.handle.id...s.handle.id, created: s.handle.created) }
        h.engine.stop()
    }

    @Test("a ringing call inside its learning window does not expire")
    func ringingDoesNotExpire() throws {
        let h = try RelayHarness(gateA: "127.0.11.1", gateB: "127.0.11.2", port: 31100, expires: 5)
        _ = try h.engine.allocateSession(switchboard: "pub", request: sideRequest(.a, "127.0.11.10", 33000, learning: 90))
        h.time.advance(seconds: 60)
        h.engine.housekeep()
        #expect(try h.engine.list().sessions.count == 1)
        h.time.advance(seconds: 36)
        h.engine.housekeep()
        #expect(try h.engine.list().sessions.isEmpty)
        h.engine.stop()
    }

    @Test("port exhaustion is a clean error naming the switchboard; deleting frees a session")
    func exhaustion() throws {
        let h = try RelayHarness(gateA: "127.0.12.1", gateB: "127.0.12.2", port: 31200, maxSessions: 2, resurrection: 0)
        let first = try h.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        _ = try h.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        #expect {
            try h.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        } throws: { error in
            (error as? MediaPlaneError)?.message == "switchboard 'pub': all 2 sessions are in use or resting"
        }
        #expect(h.engine.statistics().allocationFailures == 1)
        try h.engine.deleteSessions(switchboard: "pub", ids: first.handle.id...first.handle.id, created: first.handle.created)
        _ = try h.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        #expect(throws: MediaPlaneError.self) { try h.engine.allocateSession(switchboard: "nope", request: SessionRequest()) }
        h.engine.stop()
    }

    @Test("a client address that is one of the relay's own ports is refused (no forwarding loop)")
    func selfLoop() throws {
        let h = try RelayHarness(gateA: "127.0.18.1", gateB: "127.0.18.2", port: 31800, maxSessions: 4)
        #expect {
            try h.engine.allocateSession(switchboard: "pub", request: sideRequest(.b, "127.0.18.1", 31802))
        } throws: { ($0 as? MediaPlaneError)?.message.contains("is a port of the relay itself") == true }
        _ = try h.engine.allocateSession(switchboard: "pub", request: sideRequest(.b, "127.0.18.1", 31808))
        h.engine.stop()
    }

    @Test("a port taken by another program makes the relay use the next slot")
    func portTaken() throws {
        let squatter = try UDPPeer("127.0.13.1", 31300)
        let h = try RelayHarness(gateA: "127.0.13.1", gateB: "127.0.13.2", port: 31300, maxSessions: 3)
        let s = try h.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        #expect(s.handle.id == 1)
        _ = squatter
        h.engine.stop()
    }

    @Test("deleting a range frees every live session in it; a wrong created stamp is refused")
    func deleteRange() throws {
        let h = try RelayHarness(gateA: "127.0.14.1", gateB: "127.0.14.2", port: 31400, maxSessions: 4)
        let a = try h.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        _ = try h.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        _ = try h.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        #expect(throws: MediaPlaneError.self) { try h.engine.deleteSessions(switchboard: "pub", ids: 0...1, created: a.handle.created + 1) }
        try h.engine.deleteSessions(switchboard: "pub", ids: 0...1, created: a.handle.created)
        #expect(try h.engine.list().sessions.map(\.handle.id) == [2])
        #expect(h.engine.statistics().sessionsDeleted == 2)
        h.engine.stop()
    }

    @Test("a restarted relay restores its sessions from the journal: same ids, stamps, ports and latches")
    func journalRestart() throws {
        let path = "/tmp/iptrtpproxy-relay-test-journal-\(getpid())"
        unlink(path)
        defer { unlink(path) }
        let clock = ManualClock()
        let alice = try UDPPeer("127.0.15.10", 33555)
        let bob = try UDPPeer("127.0.15.20", 34000)
        var first = try RelayHarness(gateA: "127.0.15.1", gateB: "127.0.15.2", port: 31500, journal: path, clock: clock)
        let gone = try first.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        let s = try first.engine.allocateSession(switchboard: "pub", request: sideRequest(.a, "127.0.15.10", 33000, learning: 5))
        try first.engine.updateSession(switchboard: "pub", session: s.handle, request: sideRequest(.b, "127.0.15.20", 34000, learning: 5))
        try first.engine.deleteSessions(switchboard: "pub", ids: gone.handle.id...gone.handle.id, created: gone.handle.created)
        // Alice is behind NAT: latched from port 33555 instead of her SDP's 33000.
        alice.send(payload("latch"), to: "127.0.15.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("latch"))
        first.engine.housekeep()
        first.engine.stop()

        clock.advance(seconds: 30)
        first = try RelayHarness(gateA: "127.0.15.1", gateB: "127.0.15.2", port: 31500, journal: path, clock: clock)
        let restored = try first.engine.list().sessions
        #expect(restored.map(\.handle) == [s.handle])
        #expect(restored[0].rtpPorts == s.rtpPorts)
        #expect(restored[0].sides[0].streams[0].latched == alice.endpoint)
        #expect(restored[0].sides[1].streams[0].expected == bob.endpoint)

        // The call goes on, both ways, although Alice's learning window has long closed.
        alice.send(payload("after-restart"), to: "127.0.15.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("after-restart"))
        bob.send(payload("back"), to: "127.0.15.2", s.rtpPorts[1])
        #expect(alice.receive()?.payload == payload("back"))
        // The deleted slot kept its stamp across the restart: its next incarnation is newer.
        let next = try first.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        if next.handle.id == gone.handle.id { #expect(next.handle.created > gone.handle.created) }
        first.engine.stop()
    }

    @Test("a damaged journal line is skipped, never trusted")
    func damagedJournal() throws {
        let path = "/tmp/iptrtpproxy-relay-test-journal-bad-\(getpid())"
        defer { unlink(path) }
        let text = "iptrtpproxy-journal 1\nA pub 1 1700000000 a.always-learn=0\nZ junk\nA pub 2 1700000001 a.rtp=bad\nA pub 3 17000"
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        _ = text.withCString { write(fd, $0, strlen($0)) }
        close(fd)
        let h = try RelayHarness(gateA: "127.0.16.1", gateB: "127.0.16.2", port: 31600, journal: path)
        #expect(try h.engine.list().sessions.map(\.handle) == [SessionHandle(id: 1, created: 1700000000)])
        h.engine.stop()
    }

    @Test("an engine can be stopped and started again, and stop is idempotent")
    func restartInProcess() throws {
        let h = try RelayHarness(gateA: "127.0.17.1", gateB: "127.0.17.2", port: 31700)
        h.engine.stop()
        h.engine.stop()
        #expect(throws: MediaPlaneError.self) { try h.engine.allocateSession(switchboard: "pub", request: SessionRequest()) }
        try h.engine.start()
        _ = try h.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        h.engine.stop()
    }
}
