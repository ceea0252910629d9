import IPTRTPProxyCore
import Testing
@testable import RTPRelay

/// The relay forwards between the two clients of a session, learns NAT'd sources, and refuses
/// everyone else after learning. Real UDP on 127.0.0.0/8; each test has its own addresses.
@Suite("relay forwarding")
struct RelayForwardingTests {
    @Test("RTP and RTCP go from the A client out of gate B to the B client, and back")
    func bothWays() throws {
        let h = try RelayHarness(gateA: "127.0.1.1", gateB: "127.0.1.2", port: 30000)
        let alice = try UDPPeer("127.0.1.10", 31000), aliceRTCP = try UDPPeer("127.0.1.10", 31001)
        let bob = try UDPPeer("127.0.1.20", 32000), bobRTCP = try UDPPeer("127.0.1.20", 32001)
        let s = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.1.10", 31000, learning: 5), sideRequest(.b, "127.0.1.20", 32000, learning: 5)))
        let (portA, portB) = (s.rtpPorts[0], s.rtpPorts[1])

        alice.send(payload("a2b"), to: "127.0.1.1", portA)
        let atBob = try #require(bob.receive())
        #expect(atBob.payload == payload("a2b"))
        #expect(atBob.from == Endpoint(address: IPAddress("127.0.1.2")!, port: portB))

        bob.send(payload("b2a"), to: "127.0.1.2", portB)
        let atAlice = try #require(alice.receive())
        #expect(atAlice.payload == payload("b2a"))
        #expect(atAlice.from == Endpoint(address: IPAddress("127.0.1.1")!, port: portA))

        aliceRTCP.send("rtcp-a", to: "127.0.1.1", portA + 1)
        let rtcpAtBob = try #require(bobRTCP.receive())
        #expect(rtcpAtBob.payload == "rtcp-a")
        #expect(rtcpAtBob.from.port == portB + 1)
        bobRTCP.send("rtcp-b", to: "127.0.1.2", portB + 1)
        #expect(aliceRTCP.receive()?.payload == "rtcp-b")

        let session = try h.engine.list().sessions[0]
        #expect(session.sides[0].counters.packets == 2)
        #expect(session.sides[1].counters.packets == 2)
        #expect(session.sides[0].streams[0].latched == alice.endpoint)
        h.engine.stop()
    }

    @Test("a client behind NAT, sending from another port than its SDP says, is latched and answered there")
    func natClient() throws {
        let h = try RelayHarness(gateA: "127.0.2.1", gateB: "127.0.2.2", port: 30100)
        let natted = try UDPPeer("127.0.2.10", 31555)
        let bob = try UDPPeer("127.0.2.20", 32000)
        let s = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.2.10", 31000, learning: 10), sideRequest(.b, "127.0.2.20", 32000, learning: 10)))

        natted.send(payload("nat"), to: "127.0.2.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("nat"))
        bob.send(payload("back"), to: "127.0.2.2", s.rtpPorts[1])
        #expect(natted.receive()?.payload == payload("back"))
        #expect(try h.engine.list().sessions[0].sides[0].streams[0].latched == natted.endpoint)
        h.engine.stop()
    }

    @Test("after learning, an attacker sending to the gate gets nothing forwarded (no RTP bleed)")
    func attackerAfterLearning() throws {
        let h = try RelayHarness(gateA: "127.0.3.1", gateB: "127.0.3.2", port: 30200)
        let alice = try UDPPeer("127.0.3.10", 31000)
        let bob = try UDPPeer("127.0.3.20", 32000)
        let attacker = try UDPPeer("127.0.3.66", 31000)
        let s = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.3.10", 31000, learning: 5), sideRequest(.b, "127.0.3.20", 32000, learning: 5)))
        alice.send(payload("first"), to: "127.0.3.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("first"))

        h.time.advance(seconds: 6)
        for i in 0..<20 { attacker.send(payload("evil\(i)"), to: "127.0.3.1", s.rtpPorts[0]) }
        // Also from the attacker towards gate B, pretending to be Bob.
        for i in 0..<5 { attacker.send(payload("evil-b\(i)"), to: "127.0.3.2", s.rtpPorts[1]) }
        // Packets on one socket are handled in order: once Alice's next packet arrives, every
        // attacker packet before it has been dropped, not forwarded.
        alice.send(payload("second"), to: "127.0.3.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("second"))
        bob.send(payload("reply"), to: "127.0.3.2", s.rtpPorts[1])
        #expect(alice.receive()?.payload == payload("reply"))
        #expect(bob.drain().isEmpty)
        #expect(attacker.drain().isEmpty)

        let sides = try h.engine.list().sessions[0].sides
        #expect(sides[0].counters[.unknownSource] == 20)
        #expect(sides[1].counters[.unknownSource] == 5)
        #expect(sides[0].streams[0].latched == alice.endpoint)
        h.engine.stop()
    }

    @Test("within the window the first source is latched; a second source is not (unless always-learn)")
    func firstSourceWins() throws {
        let h = try RelayHarness(gateA: "127.0.4.1", gateB: "127.0.4.2", port: 30300)
        let first = try UDPPeer("127.0.4.10", 31777)
        let second = try UDPPeer("127.0.4.11", 31888)
        let bob = try UDPPeer("127.0.4.20", 32000)
        let s = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.4.10", 31000, learning: 30), sideRequest(.b, "127.0.4.20", 32000, learning: 30)))
        first.send(payload("1"), to: "127.0.4.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("1"))
        second.send(payload("2"), to: "127.0.4.1", s.rtpPorts[0])
        first.send(payload("3"), to: "127.0.4.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("3"))
        #expect(try h.engine.list().sessions[0].sides[0].counters[.unknownSource] == 1)
        h.engine.stop()
    }

    @Test("always-learn re-latches on every new source, also after the window")
    func alwaysLearn() throws {
        let h = try RelayHarness(gateA: "127.0.5.1", gateB: "127.0.5.2", port: 30400)
        let phone1 = try UDPPeer("127.0.5.10", 31000)
        let phone2 = try UDPPeer("127.0.5.11", 31500)
        let bob = try UDPPeer("127.0.5.20", 32000)
        let s = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.5.10", 31000, learning: 2, alwaysLearn: true), sideRequest(.b, "127.0.5.20", 32000, learning: 2)))
        phone1.send(payload("p1"), to: "127.0.5.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("p1"))
        h.time.advance(seconds: 5)
        phone2.send(payload("p2"), to: "127.0.5.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("p2"))
        bob.send(payload("to-new"), to: "127.0.5.2", s.rtpPorts[1])
        #expect(phone2.receive()?.payload == payload("to-new"))
        #expect(phone1.drain().isEmpty)
        h.engine.stop()
    }

    @Test("an update re-points a side at once: the next packet goes to the new address")
    func updateRepoints() throws {
        let h = try RelayHarness(gateA: "127.0.6.1", gateB: "127.0.6.2", port: 30500)
        let alice = try UDPPeer("127.0.6.10", 31000)
        let bobOld = try UDPPeer("127.0.6.20", 32000)
        let bobNew = try UDPPeer("127.0.6.21", 33000)
        let s = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.6.10", 31000, learning: 5), sideRequest(.b, "127.0.6.20", 32000, learning: 5)))
        // Bob's old phone latched its side.
        bobOld.send(payload("hello"), to: "127.0.6.2", s.rtpPorts[1])
        #expect(alice.receive()?.payload == payload("hello"))
        alice.send(payload("before"), to: "127.0.6.1", s.rtpPorts[0])
        #expect(bobOld.receive()?.payload == payload("before"))

        try h.engine.updateSession(switchboard: "pub", session: s.handle, request: sideRequest(.b, "127.0.6.21", 33000))
        alice.send(payload("after"), to: "127.0.6.1", s.rtpPorts[0])
        #expect(bobNew.receive()?.payload == payload("after"))
        #expect(bobOld.drain().isEmpty)
        h.engine.stop()
    }

    @Test("a v4 gate A and a v6 gate B relay between a v4 and a v6 client")
    func mixedFamilies() throws {
        let h = try RelayHarness(gateA: "127.0.7.1", gateB: "::1", port: 30600, portB: 30700)
        let alice = try UDPPeer("127.0.7.10", 31000)
        let bob = try UDPPeer("::1", 32700)
        let s = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.7.10", 31000, learning: 5), sideRequest(.b, "::1", 32700, learning: 5)))
        alice.send(payload("v4"), to: "127.0.7.1", s.rtpPorts[0])
        let got = try #require(bob.receive())
        #expect(got.payload == payload("v4"))
        #expect(got.from == Endpoint(address: IPAddress("::1")!, port: s.rtpPorts[1]))
        bob.send(payload("v6"), to: "::1", s.rtpPorts[1])
        #expect(alice.receive()?.payload == payload("v6"))
        #expect(throws: MediaPlaneError.self) {
            try h.engine.allocateSession(switchboard: "pub", request: sideRequest(.b, "127.0.7.20", 32000))
        }
        h.engine.stop()
    }

    @Test("a flooding stream is throttled with counted drops, flows again when it slows, and others are not starved")
    func floodThrottle() throws {
        let h = try RelayHarness(
            gateA: "127.0.8.1", gateB: "127.0.8.2", port: 30800, flood: FloodLimit(packetsPerSecond: 100, burst: 10))
        let flooder = try UDPPeer("127.0.8.10", 31000)
        let bob = try UDPPeer("127.0.8.20", 32000)
        let carol = try UDPPeer("127.0.8.30", 31000)
        let dave = try UDPPeer("127.0.8.40", 32000)
        let s1 = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.8.10", 31000, learning: 5), sideRequest(.b, "127.0.8.20", 32000, learning: 5)))
        let s2 = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.8.30", 31000, learning: 5), sideRequest(.b, "127.0.8.40", 32000, learning: 5)))

        for i in 0..<50 { flooder.send(payload("f\(i)"), to: "127.0.8.1", s1.rtpPorts[0]) }
        carol.send(payload("calm"), to: "127.0.8.1", s2.rtpPorts[0])
        #expect(dave.receive()?.payload == payload("calm"))
        // The clock stands still, so exactly the burst passes.
        var received: [String] = []
        while received.count < 10, let r = bob.receive() { received.append(r.payload) }
        #expect(received == (0..<10).map { payload("f\($0)") })
        flooder.send(payload("mark"), to: "127.0.8.1", s1.rtpPorts[0])
        #expect(bob.receive(within: 200) == nil)
        #expect(try h.engine.list().sessions[0].sides[0].counters[.throttled] == 41)

        h.time.advance(seconds: 1)
        flooder.send(payload("later"), to: "127.0.8.1", s1.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("later"))
        h.engine.stop()
    }

    @Test("a switchboard's own max-stream-pps/-burst replace the relay's limit for its streams")
    func switchboardFloodLimit() throws {
        let h = try RelayHarness(
            gateA: "127.0.8.1", gateB: "127.0.8.2", port: 30850, flood: FloodLimit(packetsPerSecond: 100, burst: 10),
            maxStreamPPS: 2, maxStreamBurst: 3)
        let flooder = try UDPPeer("127.0.8.11", 31000)
        let bob = try UDPPeer("127.0.8.21", 32000)
        let s = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.8.11", 31000, learning: 5), sideRequest(.b, "127.0.8.21", 32000, learning: 5)))
        for i in 0..<20 { flooder.send(payload("s\(i)"), to: "127.0.8.1", s.rtpPorts[0]) }
        var received: [String] = []
        while received.count < 3, let r = bob.receive() { received.append(r.payload) }
        #expect(received == (0..<3).map { payload("s\($0)") })
        #expect(try h.engine.streamCounters(id: s.handle.id, .a, 0, waitingFor: .throttled, atLeast: 17)[.throttled] == 17)
        // Two packets per second: one second later two more pass, the third is throttled.
        h.time.advance(seconds: 1)
        for i in 0..<3 { flooder.send(payload("t\(i)"), to: "127.0.8.1", s.rtpPorts[0]) }
        #expect(bob.receive()?.payload == payload("t0"))
        #expect(bob.receive()?.payload == payload("t1"))
        #expect(try h.engine.streamCounters(id: s.handle.id, .a, 0, waitingFor: .throttled, atLeast: 18)[.throttled] == 18)
        #expect(bob.drain().isEmpty)
        h.engine.stop()
    }

    @Test("the default per-stream limit is sized for media: 3,000 packets/s, bursts of 500")
    func defaultFloodLimit() {
        #expect(FloodLimit() == FloodLimit(packetsPerSecond: 3_000, burst: 500))
        let sw = Switchboard(name: "x", gateA: Gate(address: .v4(1), basePort: 1), gateB: Gate(address: .v4(1), basePort: 2000), maxStreamPPS: 50)
        #expect(FloodLimit().overridden(by: sw) == FloodLimit(packetsPerSecond: 50, burst: 500))
    }

    @Test("a packet for a side whose address is still unknown is dropped as no-destination")
    func noDestination() throws {
        let h = try RelayHarness(gateA: "127.0.9.1", gateB: "127.0.9.2", port: 30900)
        let alice = try UDPPeer("127.0.9.10", 31000)
        let s = try h.engine.allocateSession(switchboard: "pub", request: sideRequest(.a, "127.0.9.10", 31000, learning: 5))
        alice.send(payload("early"), to: "127.0.9.1", s.rtpPorts[0])
        alice.send(payload("early2"), to: "127.0.9.1", s.rtpPorts[0])
        // Wait until the relay has read both (its counters say so), without timing assumptions.
        var dropped: UInt64 = 0
        for _ in 0..<200 where dropped < 2 {
            dropped = try h.engine.list().sessions[0].sides[0].counters[.noDestination]
            if dropped < 2 { _ = alice.receive(within: 10) }
        }
        #expect(dropped == 2)
        h.engine.stop()
    }
}
