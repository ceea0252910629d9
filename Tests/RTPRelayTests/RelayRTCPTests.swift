import IPTRTPProxyCore
import Testing
@testable import RTPRelay

/// RTCP where the SDP says (RFC 3605 `a=rtcp`) and RTCP multiplexed on the RTP port (RFC 5761
/// `a=rtcp-mux`), driven with real SDP through the script functions into a running relay, with
/// phones on loopback addresses.
@Suite("RTCP by the SDP")
struct RelayRTCPTests {
    /// A call on `net` (each test its own /24): the offer from side A's phone at `net.10`, the
    /// answer from side B's at `net.20`, each with the media lines `offerMedia` / `answerMedia`.
    /// Returns the session's relay RTP ports (A, B) and the rewritten offer and answer.
    func call(_ h: RelayHarness, net: String, offerMedia: String, answerMedia: String) throws
        -> (portA: UInt16, portB: UInt16, id: Int, offer: String, answer: String) {
        let functions = ScriptFunctions(switchboards: h.engine.switchboards, plane: h.engine)
        var selects = SelectValues()
        let offer = "v=0\r\no=a 1 1 IN IP4 \(net).10\r\ns=-\r\nc=IN IP4 \(net).10\r\nt=0 0\r\n\(offerMedia)"
        let alloc = functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: Array(offer.utf8),
                                    contentType: "application/sdp", signal: IPAddress("\(net).10"), selects: &selects)
        #expect(alloc.succeeded, "\(alloc)")
        let ids = try #require(selects.sessionIDs)
        let answer = "v=0\r\no=b 1 1 IN IP4 \(net).20\r\ns=-\r\nc=IN IP4 \(net).20\r\nt=0 0\r\n\(answerMedia)"
        let update = functions.update(flags: ScriptFlags(0), sessionIDs: ids, body: Array(answer.utf8),
                                      contentType: "application/sdp", signal: IPAddress("\(net).20"), selects: &selects)
        #expect(update.succeeded, "\(update)")
        let session = try #require(try h.engine.list().sessions.first)
        return (session.rtpPorts[0], session.rtpPorts[1], session.handle.id,
                String(decoding: alloc.body ?? [], as: UTF8.self), String(decoding: update.body ?? [], as: UTF8.self))
    }

    @Test("RTCP goes to the a=rtcp address and port of each side, not RTP + 1, and is accepted from there after the learning window; a third party's RTCP is refused")
    func rtcpWhereTheSDPSays() throws {
        let net = "127.0.70"
        let h = try RelayHarness(gateA: "\(net).1", gateB: "\(net).2", port: 37000)
        defer { h.engine.stop() }
        // Alice receives RTCP on another host of hers (a=rtcp with an address), Bob on a port of
        // his own choosing (a=rtcp with a port only).
        let c = try call(h, net: net,
                         offerMedia: "m=audio 31000 RTP/AVP 0\r\na=rtcp:53020 IN IP4 \(net).11\r\n",
                         answerMedia: "m=audio 32000 RTP/AVP 0\r\na=rtcp:42222\r\n")
        #expect(c.offer.contains("a=rtcp:\(c.portB + 1) IN IP4 \(net).2\r\n"))
        #expect(c.answer.contains("a=rtcp:\(c.portA + 1)\r\n"))
        let aliceRTCP = try UDPPeer("\(net).11", 53020), bobRTCP = try UDPPeer("\(net).20", 42222)
        let alicePlusOne = try UDPPeer("\(net).10", 31001), bobPlusOne = try UDPPeer("\(net).20", 32001)
        let attacker = try UDPPeer("\(net).66", 53020)

        // The learning windows (10 s) close before any RTCP is sent.
        h.time.advance(seconds: 30)
        bobRTCP.send("rtcp-from-bob", to: "\(net).2", c.portB + 1)
        #expect(aliceRTCP.receive()?.payload == "rtcp-from-bob")
        aliceRTCP.send("rtcp-from-alice", to: "\(net).1", c.portA + 1)
        #expect(bobRTCP.receive()?.payload == "rtcp-from-alice")
        let list = try h.engine.list().sessions[0]
        #expect(list.sides[0].streams[1].latched == aliceRTCP.endpoint)
        #expect(list.sides[1].streams[1].latched == bobRTCP.endpoint)

        // A third party's RTCP, to either gate, is dropped; nothing reaches the old RTP + 1 ports.
        attacker.send(3, "steal-rtcp", to: "\(net).1", c.portA + 1)
        attacker.send(3, "steal-rtcp", to: "\(net).2", c.portB + 1)
        #expect(try h.engine.streamCounters(id: c.id, .a, 1, waitingFor: .unknownSource, atLeast: 3)[.unknownSource] == 3)
        #expect(try h.engine.streamCounters(id: c.id, .b, 1, waitingFor: .unknownSource, atLeast: 3)[.unknownSource] == 3)
        bobRTCP.send("rtcp-again", to: "\(net).2", c.portB + 1)
        #expect(aliceRTCP.receive()?.payload == "rtcp-again")
        #expect(aliceRTCP.drain().isEmpty && bobRTCP.drain().isEmpty)
        #expect(alicePlusOne.drain().isEmpty && bobPlusOne.drain().isEmpty && attacker.drain().isEmpty)
    }

    @Test("an a=rtcp host other than the c= host is learned for RTCP only by the host rule: the a=rtcp host or the signalling host, any port inside the window")
    func rtcpHostRule() throws {
        let net = "127.0.71"
        let h = try RelayHarness(gateA: "\(net).1", gateB: "\(net).2", port: 37100)
        defer { h.engine.stop() }
        let c = try call(h, net: net,
                         offerMedia: "m=audio 31000 RTP/AVP 0\r\na=rtcp:53020 IN IP4 \(net).11\r\n",
                         answerMedia: "m=audio 32000 RTP/AVP 0\r\n")
        let bobRTCP = try UDPPeer("\(net).20", 32001)
        let natted = try UDPPeer("\(net).11", 40000), stranger = try UDPPeer("\(net).12", 53020)
        // Inside the window: another host is refused, the a=rtcp host behind NAT (another port) is latched.
        stranger.send(2, "stranger", to: "\(net).1", c.portA + 1)
        #expect(try h.engine.streamCounters(id: c.id, .a, 1, waitingFor: .unknownSource, atLeast: 2)[.unknownSource] == 2)
        natted.send("rtcp-natted", to: "\(net).1", c.portA + 1)
        #expect(bobRTCP.receive()?.payload == "rtcp-natted")
        bobRTCP.send("rtcp-back", to: "\(net).2", c.portB + 1)
        #expect(natted.receive()?.payload == "rtcp-back")
        #expect(stranger.drain().isEmpty)
    }

    @Test("rtcp-mux: RTP and RTCP multiplexed on the RTP port flow both ways through the relay's RTP ports; a browser's a=rtcp:9 IN IP4 0.0.0.0 gets nothing on RTCP")
    func rtcpMux() throws {
        let net = "127.0.72"
        let h = try RelayHarness(gateA: "\(net).1", gateB: "\(net).2", port: 37200)
        defer { h.engine.stop() }
        // A browser offers mux with the placeholder a=rtcp; a phone answers mux with a=rtcp on its RTP port.
        let c = try call(h, net: net,
                         offerMedia: "m=audio 31000 RTP/AVP 0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=rtcp-mux\r\n",
                         answerMedia: "m=audio 32000 RTP/AVP 0\r\na=rtcp:32000\r\na=rtcp-mux\r\n")
        // The session keeps both relay ports; the SDP keeps a=rtcp-mux and names the relay's RTCP port.
        #expect(c.offer.contains("m=audio \(c.portB) RTP/AVP 0\r\na=rtcp:\(c.portB + 1) IN IP4 \(net).2\r\na=rtcp-mux\r\n"))
        #expect(c.answer.contains("m=audio \(c.portA) RTP/AVP 0\r\na=rtcp:\(c.portA + 1)\r\na=rtcp-mux\r\n"))
        let session = try h.engine.list().sessions[0]
        #expect(session.sides[0].streams[1].held)
        #expect(session.sides[1].streams[1].expected == Endpoint(address: IPAddress("\(net).20")!, port: 32000))

        let alice = try UDPPeer("\(net).10", 31000), bob = try UDPPeer("\(net).20", 32000)
        let alicePlusOne = try UDPPeer("\(net).10", 31001), attacker = try UDPPeer("\(net).66", 31000)
        h.time.advance(seconds: 30)
        // RTP then RTCP (a sender report, payload type 200) from each phone's one port.
        alice.send(payload("alice-rtp"), to: "\(net).1", c.portA)
        alice.send("\u{80}\u{C8}rtcp-sr-alice", to: "\(net).1", c.portA)
        #expect(bob.receive()?.payload == payload("alice-rtp"))
        #expect(bob.receive()?.payload == "\u{80}\u{C8}rtcp-sr-alice")
        bob.send(payload("bob-rtp"), to: "\(net).2", c.portB)
        bob.send("\u{80}\u{C8}rtcp-sr-bob", to: "\(net).2", c.portB)
        #expect(alice.receive()?.payload == payload("bob-rtp"))
        #expect(alice.receive()?.payload == "\u{80}\u{C8}rtcp-sr-bob")
        // A third party on the multiplexed port is refused; nothing goes to the browser's RTCP placeholder.
        attacker.send(3, "steal", to: "\(net).1", c.portA)
        #expect(try h.engine.streamCounters(id: c.id, .a, 0, waitingFor: .unknownSource, atLeast: 3)[.unknownSource] == 3)
        bob.send("rtcp-to-rtcp-port", to: "\(net).2", c.portB + 1)
        #expect(try h.engine.streamCounters(id: c.id, .b, 1, waitingFor: .noDestination, atLeast: 1)[.noDestination] == 1)
        #expect(alice.drain().isEmpty && alicePlusOne.drain().isEmpty && attacker.drain().isEmpty)
    }
}
