import Glibc
import IPTRTPProxyAuth
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Testing
@testable import RTPRelay

/// `ice=force` on a running relay: the SDP gives each side the relay's candidates and
/// credentials; the relay answers that side's connectivity checks on its ports as an ICE-lite
/// agent, latches the checked source, and refuses checks that do not prove the password.
/// Phones and attackers are real UDP sockets on loopback addresses.
@Suite("ICE-lite answers on the relay's ports")
struct RelayICETests {
    /// The credentials an SDP gives (`a=ice-ufrag`, `a=ice-pwd`).
    func credentials(in sdp: String) throws -> ICECredentials {
        func value(_ name: String) -> String? {
            sdp.split(separator: "\r\n").first { $0.hasPrefix("a=\(name):") }.map { String($0.dropFirst(name.count + 3)) }
        }
        let ufrag = try #require(value("ice-ufrag")), password = try #require(value("ice-pwd"))
        return try #require(ICECredentials(ufrag: ufrag, password: password))
    }

    /// A Binding request as a browser sends it: USERNAME `ufrag:theirs`, PRIORITY, optional
    /// USE-CANDIDATE, MESSAGE-INTEGRITY with `password`, FINGERPRINT.
    func check(to ufrag: String, password: String, nominate: Bool, id: UInt8) -> [UInt8] {
        var m: [UInt8] = [0, 1, 0, 0, 0x21, 0x12, 0xA4, 0x42] + [UInt8](repeating: id, count: 12)
        let user = Array("\(ufrag):brws".utf8)
        m += [0, 0x06, 0, UInt8(user.count)] + user + [UInt8](repeating: 0, count: (4 - user.count % 4) % 4)
        m += [0, 0x24, 0, 4, 0x6E, 0, 0x01, 0xFF]
        if nominate { m += [0, 0x25, 0, 0] }
        func setLength(_ n: Int) { m[2] = UInt8(n >> 8); m[3] = UInt8(n & 0xFF) }
        setLength(m.count + 24 - 20)
        m += [0, 0x08, 0, 20] + ICECheckIntegrity(password: password).mac(m)
        setLength(m.count + 8 - 20)
        let crc = STUNMessage.crc32(m[...]) ^ 0x5354_554E
        m += [0x80, 0x28, 0, 4, UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)]
        return m
    }

    /// The next datagram on `peer` as bytes, or nil within `milliseconds`.
    func receiveBytes(_ peer: UDPPeer, within milliseconds: Int32 = 2000) -> [UInt8]? {
        var p = pollfd(fd: peer.fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, milliseconds) == 1 else { return nil }
        return Socket.receive(peer.fd, maxLength: 2048)?.bytes
    }

    /// Checks a response: success class, the transaction id, the mapped address `seen`, a
    /// MESSAGE-INTEGRITY made with `password` and the FINGERPRINT.
    func verifyResponse(_ r: [UInt8], id: UInt8, seen: Endpoint, password: String) {
        #expect(Array(r[0..<2]) == [0x01, 0x01])
        #expect(Array(r[8..<20]) == [UInt8](repeating: id, count: 12))
        let expected = STUNMessage.bindingSuccess(
            transactionID: [UInt8](repeating: id, count: 12), mapped: seen, hmac: ICECheckIntegrity(password: password).mac)
        #expect(r == expected, "response differs from the one for \(seen) with the side's password")
    }

    /// A plain phone on side A (`net`.10:31000) offers through alloc on an ice=force relay: the
    /// functions (for the answer), the session ids, side B's credentials from the rewritten offer,
    /// the offer as sent, and the session's RTP ports on gates A and B.
    func forcedOffer(_ h: RelayHarness, net: String) throws
        -> (functions: ScriptFunctions, ids: String, b: ICECredentials, offer: String, out: String, portA: UInt16, portB: UInt16) {
        let functions = ScriptFunctions(switchboards: h.engine.switchboards, plane: h.engine)
        var selects = SelectValues()
        let offer = "v=0\r\no=a 1 1 IN IP4 \(net).10\r\ns=-\r\nc=IN IP4 \(net).10\r\nt=0 0\r\nm=audio 31000 RTP/AVP 0\r\n"
        let alloc = functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: Array(offer.utf8),
                                    contentType: nil, signal: IPAddress("\(net).10"), selects: &selects)
        #expect(alloc.succeeded)
        let out = String(decoding: alloc.body ?? [], as: UTF8.self)
        let session = try #require(try h.engine.list().sessions.first)
        return (functions, try #require(selects.sessionIDs), try credentials(in: out), offer, out, session.rtpPorts[0], session.rtpPorts[1])
    }

    @Test("a browser on side B checks the relay before the answer: answered, latched, media flows both ways; the answer's SDP address does not take the latch away")
    func browserCompletesICE() throws {
        let net = "127.0.71"
        let h = try RelayHarness(gateA: "\(net).1", gateB: "\(net).2", port: 37100, ice: .force)
        defer { h.engine.stop() }
        let (functions, ids, b, _, offerOut, portA, portB) = try forcedOffer(h, net: net)
        var selects = SelectValues()
        #expect(offerOut.contains("a=candidate:1 1 UDP 2130706431 \(net).2 \(portB) typ host"))

        // The browser sits where no SDP or signalling said (a TURN-less NAT it found by ICE).
        let browser = try UDPPeer("\(net).30", 5000), alice = try UDPPeer("\(net).10", 31000)
        Socket.send(browser.fd, check(to: b.ufrag, password: b.password, nominate: false, id: 1),
                    to: SocketAddress(Endpoint(address: IPAddress("\(net).2")!, port: portB)))
        let response = try #require(receiveBytes(browser))
        verifyResponse(response, id: 1, seen: browser.endpoint, password: b.password)
        Socket.send(browser.fd, check(to: b.ufrag, password: b.password, nominate: true, id: 2),
                    to: SocketAddress(Endpoint(address: IPAddress("\(net).2")!, port: portB)))
        verifyResponse(try #require(receiveBytes(browser)), id: 2, seen: browser.endpoint, password: b.password)

        alice.send(payload("to-browser"), to: "\(net).1", portA)
        #expect(browser.receive()?.payload == payload("to-browser"))
        browser.send(payload("to-alice"), to: "\(net).2", portB)
        #expect(alice.receive()?.payload == payload("to-alice"))

        // The answer names another address (the browser's default candidate): the checked latch stays.
        let answer = "v=0\r\no=b 1 1 IN IP4 \(net).20\r\ns=-\r\nc=IN IP4 \(net).20\r\nt=0 0\r\nm=audio 32000 UDP/TLS/RTP/SAVPF 0\r\n"
            + "a=ice-ufrag:brws\r\na=ice-pwd:0123456789012345678901\r\n"
        let update = functions.update(flags: ScriptFlags(0), sessionIDs: ids, body: Array(answer.utf8),
                                      contentType: nil, signal: IPAddress("\(net).20"), selects: &selects)
        #expect(update.succeeded)
        let a = try credentials(in: String(decoding: update.body ?? [], as: UTF8.self))
        #expect(a != b)
        alice.send(payload("still-to-browser"), to: "\(net).1", portA)
        #expect(browser.receive()?.payload == payload("still-to-browser"))
        let listed = try #require(try h.engine.list().sessions.first)
        #expect(listed.sides[1].streams[0].latched == browser.endpoint)
        // Checks are between the phone and the relay: Alice never saw one.
        #expect(alice.drain().isEmpty)
    }

    @Test("an attacker without the password gets no answer and no latch; the old password stops working after an ICE restart")
    func checksMustProveThePassword() throws {
        let net = "127.0.72"
        let h = try RelayHarness(gateA: "\(net).1", gateB: "\(net).2", port: 37200, ice: .force)
        defer { h.engine.stop() }
        let (functions, ids, b, offer, _, portA, portB) = try forcedOffer(h, net: net)
        var selects = SelectValues()
        let gateB = SocketAddress(Endpoint(address: IPAddress("\(net).2")!, port: portB))
        let attacker = try UDPPeer("\(net).66", 5000), browser = try UDPPeer("\(net).30", 5000)
        let alice = try UDPPeer("\(net).10", 31000)

        // Wrong password, wrong ufrag, a check for gate A's side sent to gate B, a broken fingerprint.
        Socket.send(attacker.fd, check(to: b.ufrag, password: "guessedguessedguessed0", nominate: true, id: 3), to: gateB)
        Socket.send(attacker.fd, check(to: "nope", password: b.password, nominate: true, id: 4), to: gateB)
        var broken = check(to: b.ufrag, password: b.password, nominate: true, id: 5)
        broken[broken.count - 1] ^= 0xFF
        Socket.send(attacker.fd, broken, to: gateB)
        // The browser's good check comes last: once it is answered, the relay has read all of the above.
        Socket.send(browser.fd, check(to: b.ufrag, password: b.password, nominate: true, id: 6), to: gateB)
        verifyResponse(try #require(receiveBytes(browser)), id: 6, seen: browser.endpoint, password: b.password)
        #expect(receiveBytes(attacker, within: 0) == nil)
        let c = try h.engine.streamCounters(id: try #require(try h.engine.list().sessions.first).handle.id, .b, 0, waitingFor: .unknownSource, atLeast: 3)
        #expect(c[.unknownSource] == 3)
        alice.send(payload("media"), to: "\(net).1", portA)
        #expect(browser.receive()?.payload == payload("media"))
        #expect(attacker.drain().isEmpty)

        // A re-offer gives side B new credentials (an ICE restart): the old ones are refused now.
        let reoffer = functions.update(flags: ScriptFlags(1), sessionIDs: ids, body: Array(offer.utf8),
                                       contentType: nil, signal: IPAddress("\(net).10"), selects: &selects)
        let b2 = try credentials(in: String(decoding: reoffer.body ?? [], as: UTF8.self))
        #expect(b2 != b)
        Socket.send(browser.fd, check(to: b.ufrag, password: b.password, nominate: true, id: 7), to: gateB)
        Socket.send(browser.fd, check(to: b2.ufrag, password: b2.password, nominate: true, id: 8), to: gateB)
        verifyResponse(try #require(receiveBytes(browser)), id: 8, seen: browser.endpoint, password: b2.password)
        // RTP that happens to start like STUN from the browser is not forwarded either way.
        #expect(alice.drain().isEmpty)
    }

    @Test("the credentials survive a restart through the journal")
    func journaled() throws {
        let net = "127.0.73"
        let journal = "/tmp/ipt-ice-journal-\(getpid())"
        defer { unlink(journal) }
        let first = try RelayHarness(gateA: "\(net).1", gateB: "\(net).2", port: 37300, journal: journal, ice: .force)
        let (_, _, b, _, _, _, portB) = try forcedOffer(first, net: net)
        first.engine.stop()
        let h = try RelayHarness(gateA: "\(net).1", gateB: "\(net).2", port: 37300, journal: journal, ice: .force)
        defer { h.engine.stop() }
        let browser = try UDPPeer("\(net).30", 5000)
        Socket.send(browser.fd, check(to: b.ufrag, password: b.password, nominate: true, id: 9),
                    to: SocketAddress(Endpoint(address: IPAddress("\(net).2")!, port: portB)))
        verifyResponse(try #require(receiveBytes(browser)), id: 9, seen: browser.endpoint, password: b.password)
    }
}
