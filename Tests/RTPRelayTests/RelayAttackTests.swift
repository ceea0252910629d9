import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Testing
@testable import RTPRelay

/// The attacks of issue 13, played against a running relay on loopback with RTP and RTCP: a
/// party of one call aims the relay at another call's port through hold, a third party sends
/// first inside the learning window, anyone sends to gate B before the answer, an SDP `c=` the
/// parser cannot read. Each test states what the attacker gets: nothing.
@Suite("relay under attack")
struct RelayAttackTests {
    @Test("hold hijack: c=0.0.0.0 with another call's relay port holds the leg; RTP and RTCP injected never reach the victim")
    func holdHijack() throws {
        // Both calls on one switchboard, as on a real relay: 0.0.0.0:P sent from a gate reaches
        // that gate's own address on Linux, i.e. the victim's socket on port P.
        let h = try RelayHarness(gateA: "127.0.40.1", gateB: "127.0.40.2", port: 36000, maxSessions: 4)
        let caller = try UDPPeer("127.0.40.10", 31000), callerRTCP = try UDPPeer("127.0.40.10", 31001)
        let callee = try UDPPeer("127.0.40.20", 32000), calleeRTCP = try UDPPeer("127.0.40.20", 32001)
        let mallory = try UDPPeer("127.0.40.66", 33000), malloryRTCP = try UDPPeer("127.0.40.66", 33001)
        let accomplice = try UDPPeer("127.0.40.67", 34000)
        let victim = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.40.10", 31000, learning: 60, signal: "127.0.40.10"),
            sideRequest(.b, "127.0.40.20", 32000, learning: 60, signal: "127.0.40.20")))
        let x = try h.engine.allocateSession(switchboard: "pub", request: sideRequest(.a, "127.0.40.66", 33000, learning: 60, signal: "127.0.40.66"))
        // The accomplice answers (or re-answers) call X: hold, aimed at the victim's gate B ports.
        let guessed = victim.rtpPorts[1]
        try h.engine.updateSession(switchboard: "pub", session: x.handle, request: sideRequest(.b, "0.0.0.0", guessed, learning: 60, signal: "127.0.40.67"))

        mallory.send(5, "inject", to: "127.0.40.1", x.rtpPorts[0])
        malloryRTCP.send(5, "inject-rtcp", to: "127.0.40.1", x.rtpPorts[0] + 1)
        // The relay took every packet and sent it nowhere: the held leg has no destination.
        #expect(try h.engine.streamCounters(id: x.handle.id, .a, 0, waitingFor: .noDestination, atLeast: 5)[.noDestination] == 5)
        #expect(try h.engine.streamCounters(id: x.handle.id, .a, 1, waitingFor: .noDestination, atLeast: 5)[.noDestination] == 5)
        let held = try h.engine.list().sessions.first { $0.handle.id == x.handle.id }!.sides[1].streams
        #expect(held.allSatisfy { $0.held && $0.expected == nil && $0.signal == IPAddress("127.0.40.67") })
        let victimSides = try h.engine.list().sessions.first { $0.handle.id == victim.handle.id }!.sides
        #expect(victimSides[1].counters.packets == 0 && victimSides[1].counters[.unknownSource] == 0)
        #expect(caller.drain().isEmpty && callerRTCP.drain().isEmpty)
        #expect(callee.drain().isEmpty && calleeRTCP.drain().isEmpty)

        // The victim's call is untouched: its caller still reaches its callee.
        caller.send(payload("victim-ok"), to: "127.0.40.1", victim.rtpPorts[0])
        #expect(callee.receive()?.payload == payload("victim-ok"))

        // Resume re-points the held leg: X flows again, to its own party.
        try h.engine.updateSession(switchboard: "pub", session: x.handle, request: sideRequest(.b, "127.0.40.67", 34000, learning: 60, signal: "127.0.40.67"))
        mallory.send(payload("resumed"), to: "127.0.40.1", x.rtpPorts[0])
        #expect(accomplice.receive()?.payload == payload("resumed"))
        #expect(callee.drain().isEmpty && caller.drain().isEmpty)
        h.engine.stop()
    }

    @Test("the relay's own gate and ports, its host's addresses, broadcast and multicast are refused as clients",
          arguments: [
              ("own-gate", "is a port of the relay itself"),
              ("10.255.1.7", "is an address of the relay's own host"),
              ("10.255.1.255", "is a broadcast address"),
              ("255.255.255.255", "is a broadcast address"),
              ("224.0.0.1", "is a multicast address"),
              ("239.1.2.3", "is a multicast address"),
          ].enumerated().map { ($0.offset, $0.element.0, $0.element.1) })
    func ownHostRefused(index: Int, address: String, reason: String) throws {
        // Cases run in parallel: each has its own gates.
        let net = "127.0.\(50 + index)"
        let local = LocalAddresses(addresses: [IPAddress("10.255.1.7")!], broadcasts: [IPAddress("10.255.1.255")!])
        let h = try RelayHarness(gateA: "\(net).1", gateB: "\(net).2", port: 36100, maxSessions: 4, localAddresses: local)
        defer { h.engine.stop() }
        let s = try h.engine.allocateSession(switchboard: "pub", request: sideRequest(.a, "\(net).10", 31000, signal: "\(net).10"))
        let (target, port) = address == "own-gate" ? ("\(net).2", s.rtpPorts[1]) : (address, UInt16(4000))
        #expect {
            try h.engine.updateSession(switchboard: "pub", session: s.handle, request: sideRequest(.b, target, port))
        } throws: { ($0 as? MediaPlaneError)?.message.contains(reason) == true }
        #expect {
            try h.engine.allocateSession(switchboard: "pub", request: sideRequest(.a, target, port))
        } throws: { ($0 as? MediaPlaneError)?.message.contains(reason) == true }
        // Nothing was re-pointed: side b is still unknown.
        #expect(try h.engine.list().sessions.count == 1)
        #expect(try h.engine.list().sessions[0].sides[1].streams[0].expected == nil)
    }

    @Test("a relay port named in IPv4-mapped IPv6 form is refused too")
    func mappedRelayPort() throws {
        let h = try RelayHarness(gateA: "127.0.48.1", gateB: "::1", port: 36600, portB: 36700)
        defer { h.engine.stop() }
        let s = try h.engine.allocateSession(switchboard: "pub", request: sideRequest(.a, "127.0.48.10", 31000, signal: "127.0.48.10"))
        #expect {
            try h.engine.updateSession(switchboard: "pub", session: s.handle, request: sideRequest(.b, "::ffff:127.0.48.1", s.rtpPorts[0]))
        } throws: { ($0 as? MediaPlaneError)?.message.contains("is a port of the relay itself") == true }
    }

    @Test("loopback is refused from a gate that is not on loopback; the policy knows 0.0.0.0 is hold, not a refusal")
    func loopbackOnlyFromLoopback() {
        let policy = DestinationPolicy(local: LocalAddresses(), switchboards: SwitchboardSet([]))
        let publicGate = Gate(address: IPAddress("192.0.2.1")!, basePort: 40000)
        let loopbackGate = Gate(address: IPAddress("127.0.0.1")!, basePort: 40000)
        #expect(policy.refusal(of: IPAddress("127.0.0.1")!, from: publicGate) == "is a loopback address of the relay's host")
        #expect(policy.refusal(of: IPAddress("::ffff:127.0.0.5")!, from: publicGate) == "is a loopback address of the relay's host")
        #expect(policy.refusal(of: IPAddress("::1")!, from: Gate(address: IPAddress("2001:db8::1")!, basePort: 1)) != nil)
        #expect(policy.refusal(of: IPAddress("127.0.0.1")!, from: loopbackGate) == nil)
        #expect(policy.refusal(of: IPAddress("::ffff:224.1.1.1")!, from: publicGate) == "is a multicast address")
        #expect(policy.refusal(of: IPAddress("ff02::1")!, from: publicGate) == "is a multicast address")
        #expect(policy.refusal(of: IPAddress("0.0.0.0")!, from: publicGate) == nil)
        #expect(policy.refusal(of: IPAddress("198.51.100.9")!, from: publicGate) == nil)
        let withGates = DestinationPolicy(local: LocalAddresses(), switchboards: SwitchboardSet([
            Switchboard(name: "pub", gateA: publicGate, gateB: Gate(address: IPAddress("198.51.100.1")!, basePort: 40000))]))
        #expect(withGates.refusal(of: IPAddress("198.51.100.1")!, from: publicGate) == "is an address of the relay's own host")
    }

    @Test("a third party that sends first inside the learning window latches nothing; the NAT'd phone does, from another port")
    func thirdPartyFirst() throws {
        let h = try RelayHarness(gateA: "127.0.41.1", gateB: "127.0.41.2", port: 36200)
        let phone = try UDPPeer("127.0.41.10", 31555), phoneRTCP = try UDPPeer("127.0.41.10", 31556)
        let bob = try UDPPeer("127.0.41.20", 32000), bobRTCP = try UDPPeer("127.0.41.20", 32001)
        let attacker = try UDPPeer("127.0.41.66", 31000), attackerRTCP = try UDPPeer("127.0.41.66", 31001)
        let s = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.41.10", 31000, learning: 60, signal: "127.0.41.10"),
            sideRequest(.b, "127.0.41.20", 32000, learning: 60, signal: "127.0.41.20")))
        attacker.send(5, "steal", to: "127.0.41.1", s.rtpPorts[0])
        attackerRTCP.send(5, "steal-rtcp", to: "127.0.41.1", s.rtpPorts[0] + 1)
        #expect(try h.engine.streamCounters(id: s.handle.id, .a, 0, waitingFor: .unknownSource, atLeast: 5)[.unknownSource] == 5)
        #expect(try h.engine.streamCounters(id: s.handle.id, .a, 1, waitingFor: .unknownSource, atLeast: 5)[.unknownSource] == 5)
        #expect(bob.drain().isEmpty && bobRTCP.drain().isEmpty)

        // The phone behind NAT (same host as its SDP, another port) is latched, RTP and RTCP.
        phone.send(payload("hello"), to: "127.0.41.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("hello"))
        phoneRTCP.send("rtcp-hello", to: "127.0.41.1", s.rtpPorts[0] + 1)
        #expect(bobRTCP.receive()?.payload == "rtcp-hello")
        // Bob's media goes to the phone, never to the attacker.
        bob.send(payload("audio"), to: "127.0.41.2", s.rtpPorts[1])
        #expect(phone.receive()?.payload == payload("audio"))
        bobRTCP.send("rtcp-audio", to: "127.0.41.2", s.rtpPorts[1] + 1)
        #expect(phoneRTCP.receive()?.payload == "rtcp-audio")
        // Later attempts, still inside the window, change nothing.
        attacker.send(5, "again", to: "127.0.41.1", s.rtpPorts[0])
        bob.send(payload("audio2"), to: "127.0.41.2", s.rtpPorts[1])
        #expect(phone.receive()?.payload == payload("audio2"))
        #expect(attacker.drain().isEmpty && attackerRTCP.drain().isEmpty)
        #expect(try h.engine.list().sessions[0].sides[0].streams[0].latched == phone.endpoint)
        h.engine.stop()
    }

    @Test("a phone behind NAT whose SDP names a private address is learned from the address its SIP came from, any port")
    func signallingAddressBehindNAT() throws {
        let h = try RelayHarness(gateA: "127.0.42.1", gateB: "127.0.42.2", port: 36300)
        let phone = try UDPPeer("127.0.42.10", 40000), phoneRTCP = try UDPPeer("127.0.42.10", 40001)
        let bob = try UDPPeer("127.0.42.20", 32000), bobRTCP = try UDPPeer("127.0.42.20", 32001)
        let attacker = try UDPPeer("127.0.42.66", 40000), attackerRTCP = try UDPPeer("127.0.42.66", 40001)
        let s = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "192.0.2.55", 4000, learning: 60, signal: "127.0.42.10"),
            sideRequest(.b, "127.0.42.20", 32000, learning: 60, signal: "127.0.42.20")))
        attacker.send(3, "steal", to: "127.0.42.1", s.rtpPorts[0])
        attackerRTCP.send(3, "steal-rtcp", to: "127.0.42.1", s.rtpPorts[0] + 1)
        #expect(try h.engine.streamCounters(id: s.handle.id, .a, 1, waitingFor: .unknownSource, atLeast: 3)[.unknownSource] == 3)
        phone.send(payload("nat"), to: "127.0.42.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("nat"))
        phoneRTCP.send("rtcp-nat", to: "127.0.42.1", s.rtpPorts[0] + 1)
        #expect(bobRTCP.receive()?.payload == "rtcp-nat")
        bob.send(payload("back"), to: "127.0.42.2", s.rtpPorts[1])
        #expect(phone.receive()?.payload == payload("back"))
        bobRTCP.send("rtcp-back", to: "127.0.42.2", s.rtpPorts[1] + 1)
        #expect(phoneRTCP.receive()?.payload == "rtcp-back")
        #expect(attacker.drain().isEmpty && attackerRTCP.drain().isEmpty)
        #expect(try h.engine.list().sessions[0].sides[0].counters[.unknownSource] == 6)
        h.engine.stop()
    }

    @Test("before the answer gate B latches nobody: the caller's RTP and RTCP go nowhere and nothing injected reaches the caller")
    func gateBBeforeAnswer() throws {
        let h = try RelayHarness(gateA: "127.0.43.1", gateB: "127.0.43.2", port: 36400)
        let alice = try UDPPeer("127.0.43.10", 31000), aliceRTCP = try UDPPeer("127.0.43.10", 31001)
        let callee = try UDPPeer("127.0.43.20", 32000), calleeRTCP = try UDPPeer("127.0.43.20", 32001)
        let attacker = try UDPPeer("127.0.43.66", 32000), attackerRTCP = try UDPPeer("127.0.43.66", 32001)
        let s = try h.engine.allocateSession(switchboard: "pub", request: sideRequest(.a, "127.0.43.10", 31000, learning: 90, signal: "127.0.43.10"))
        // Even the callee's own host: before its SDP arrived, nobody owns gate B.
        for peer in [attacker, callee] { peer.send(3, "early", to: "127.0.43.2", s.rtpPorts[1]) }
        for peer in [attackerRTCP, calleeRTCP] { peer.send(3, "early-rtcp", to: "127.0.43.2", s.rtpPorts[1] + 1) }
        #expect(try h.engine.streamCounters(id: s.handle.id, .b, 0, waitingFor: .unknownSource, atLeast: 6)[.unknownSource] == 6)
        #expect(try h.engine.streamCounters(id: s.handle.id, .b, 1, waitingFor: .unknownSource, atLeast: 6)[.unknownSource] == 6)
        #expect(alice.drain().isEmpty && aliceRTCP.drain().isEmpty)
        // The caller's media has no destination yet: it leaks to no one.
        alice.send(3, "ringing", to: "127.0.43.1", s.rtpPorts[0])
        aliceRTCP.send(3, "ringing-rtcp", to: "127.0.43.1", s.rtpPorts[0] + 1)
        #expect(try h.engine.streamCounters(id: s.handle.id, .a, 1, waitingFor: .noDestination, atLeast: 3)[.noDestination] == 3)
        #expect(attacker.drain().isEmpty && attackerRTCP.drain().isEmpty)

        // The answer describes side B: now its phone latches, the attacker still does not.
        try h.engine.updateSession(switchboard: "pub", session: s.handle, request: sideRequest(.b, "127.0.43.20", 32000, learning: 10, signal: "127.0.43.20"))
        attacker.send(2, "late", to: "127.0.43.2", s.rtpPorts[1])
        callee.send(payload("answer"), to: "127.0.43.2", s.rtpPorts[1])
        #expect(alice.receive()?.payload == payload("answer"))
        calleeRTCP.send("rtcp-answer", to: "127.0.43.2", s.rtpPorts[1] + 1)
        #expect(aliceRTCP.receive()?.payload == "rtcp-answer")
        #expect(alice.drain().isEmpty)
        h.engine.stop()
    }

    @Test("an SDP c= the parser cannot read opens no latch: only the signalling address is learned",
          arguments: [(45, "256.1.1.1"), (46, "localhost"), (47, "127.0.47.10\u{0}")])
    func unparsableConnection(subnet: Int, address: String) throws {
        // Cases run in parallel: each has its own addresses.
        let net = "127.0.\(subnet)"
        let h = try RelayHarness(gateA: "\(net).1", gateB: "\(net).2", port: 36500)
        defer { h.engine.stop() }
        let functions = ScriptFunctions(switchboards: h.engine.switchboards, plane: h.engine)
        var selects = SelectValues()
        let offer = Array("v=0\r\no=a 1 1 IN IP4 \(net).10\r\ns=-\r\nc=IN IP4 \(address)\r\nt=0 0\r\nm=audio 31000 RTP/AVP 0\r\n".utf8)
        let alloc = functions.alloc(
            flags: ScriptFlags(1), switchboard: "pub", body: offer, contentType: "application/sdp",
            signal: IPAddress("\(net).10"), selects: &selects)
        guard alloc.succeeded else {
            // Refusing the SDP is safe too: then nothing is allocated.
            #expect(try h.engine.list().sessions.isEmpty)
            return
        }
        let ids = try #require(selects.sessionIDs)
        let answer = Array("v=0\r\no=b 1 1 IN IP4 \(net).20\r\ns=-\r\nc=IN IP4 \(net).20\r\nt=0 0\r\nm=audio 32000 RTP/AVP 0\r\n".utf8)
        #expect(functions.update(flags: ScriptFlags(0), sessionIDs: ids, body: answer, contentType: "application/sdp",
                                 signal: IPAddress("\(net).20"), selects: &selects).succeeded)
        let session = try h.engine.list().sessions[0]
        let (portA, portB) = (session.rtpPorts[0], session.rtpPorts[1])
        #expect(session.sides[0].streams[0].expected == nil)

        let attacker = try UDPPeer("\(net).66", 31000), attackerRTCP = try UDPPeer("\(net).66", 31001)
        let phone = try UDPPeer("\(net).10", 41000), phoneRTCP = try UDPPeer("\(net).10", 41001)
        let bob = try UDPPeer("\(net).20", 32000), bobRTCP = try UDPPeer("\(net).20", 32001)
        attacker.send(4, "steal", to: "\(net).1", portA)
        attackerRTCP.send(4, "steal-rtcp", to: "\(net).1", portA + 1)
        #expect(try h.engine.streamCounters(id: session.handle.id, .a, 0, waitingFor: .unknownSource, atLeast: 4)[.unknownSource] == 4)
        #expect(try h.engine.streamCounters(id: session.handle.id, .a, 1, waitingFor: .unknownSource, atLeast: 4)[.unknownSource] == 4)
        #expect(bob.drain().isEmpty && bobRTCP.drain().isEmpty)
        phone.send(payload("real"), to: "\(net).1", portA)
        #expect(bob.receive()?.payload == payload("real"))
        phoneRTCP.send("rtcp-real", to: "\(net).1", portA + 1)
        #expect(bobRTCP.receive()?.payload == "rtcp-real")
        bob.send(payload("reply"), to: "\(net).2", portB)
        #expect(phone.receive()?.payload == payload("reply"))
        #expect(attacker.drain().isEmpty && attackerRTCP.drain().isEmpty)
    }
}

/// The learning rule itself (`StreamLeg.accepts`), without sockets.
@Suite("learning rule")
struct LearningRuleTests {
    static let sdp = Endpoint(address: IPAddress("192.0.2.10")!, port: 4000)
    static let now: Int64 = 1_000_000_000_000

    func leg(sdp: Endpoint? = LearningRuleTests.sdp, signal: String? = nil, alwaysLearn: Bool = false, learning: UInt32 = 10) -> StreamLeg {
        var l = StreamLeg(fd: 3, limit: FloodLimit(), now: Self.now)
        l.apply(StreamRequest(address: sdp, learningTimeout: learning), alwaysLearn: alwaysLearn,
                signal: signal.map { IPAddress($0)! }, now: Self.now, defaultLearningTimeout: 10)
        return l
    }

    /// `leg.accepts` outside the #expect macro, which cannot mutate.
    func accepts(_ leg: inout StreamLeg, _ source: PeerAddress, now: Int64) -> Bool { leg.accepts(source, now: now) }

    func source(_ ip: String, _ port: UInt16) -> PeerAddress { PeerAddress(Endpoint(address: IPAddress(ip)!, port: port)) }

    @Test("inside the window: the SDP host or the signalling host on any port latches; any other host does not")
    func hosts() {
        var l = leg(signal: "198.51.100.7")
        #expect(!accepts(&l, source("203.0.113.66", 4000), now: Self.now))
        #expect(accepts(&l, source("198.51.100.7", 61000), now: Self.now))
        var m = leg(signal: "198.51.100.7")
        #expect(accepts(&m, source("192.0.2.10", 5555), now: Self.now))
    }

    @Test("a signalling address in IPv4-mapped form (a dual-stack proxy) matches IPv4 sources")
    func mappedSignal() {
        var l = leg(sdp: nil, signal: "::ffff:198.51.100.7")
        #expect(accepts(&l, source("198.51.100.7", 4000), now: Self.now))
    }

    @Test("after the window only the exact SDP address latches; always-learn takes any source once described")
    func afterWindow() {
        let later = Self.now + 11_000_000_000
        var l = leg(signal: "198.51.100.7")
        #expect(!accepts(&l, source("198.51.100.7", 61000), now: later))
        #expect(accepts(&l, source("192.0.2.10", 4000), now: later))
        var a = leg(alwaysLearn: true)
        #expect(accepts(&a, source("203.0.113.66", 1), now: later))
    }

    @Test("a side nothing described latches nothing, not even with always-learn")
    func undescribed() {
        var l = StreamLeg(fd: 3, limit: FloodLimit(), now: Self.now)
        #expect(!accepts(&l, source("203.0.113.66", 4000), now: Self.now))
        l.alwaysLearn = true
        #expect(!accepts(&l, source("203.0.113.66", 4000), now: Self.now))
        var t = StreamLeg(fd: 3, limit: FloodLimit(), now: Self.now)
        t.apply(StreamRequest(learningTimeout: 30), alwaysLearn: false, signal: nil, now: Self.now, defaultLearningTimeout: 10)
        #expect(!accepts(&t, source("203.0.113.66", 4000), now: Self.now))
    }

    @Test("no SDP address (an unparsable c=): only the signalling host latches, even after the window")
    func signalOnly() {
        var l = leg(sdp: nil, signal: "198.51.100.7")
        #expect(!accepts(&l, source("203.0.113.66", 4000), now: Self.now))
        #expect(accepts(&l, source("198.51.100.7", 1234), now: Self.now + 100_000_000_000))
    }

    @Test("hold: 0.0.0.0 leaves no destination; the latch and the SDP address are forgotten; resume re-points")
    func hold() {
        var l = leg(signal: "198.51.100.7")
        #expect(accepts(&l, source("192.0.2.10", 4000), now: Self.now))
        l.apply(StreamRequest(address: Endpoint(address: .v4(0), port: 36000)), alwaysLearn: false, signal: nil, now: Self.now, defaultLearningTimeout: 10)
        #expect(!l.destination.isSet)
        #expect(l.held && !l.expected.isSet && !l.latched.isSet)
        // A source from the signalling host may still be latched (music on hold goes out), but
        // nothing is sent to the held side.
        #expect(accepts(&l, source("198.51.100.7", 4000), now: Self.now))
        #expect(!l.destination.isSet)
        l.apply(StreamRequest(address: Self.sdp), alwaysLearn: false, signal: nil, now: Self.now, defaultLearningTimeout: 10)
        #expect(l.destination == PeerAddress(Self.sdp))
    }
}
