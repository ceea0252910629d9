import Testing
@testable import IPTRTPProxyCore

/// The Call-ID and From tag that go with alloc (issue 14 item 5): fit for the control protocol,
/// carried over it and back, kept by updates that do not name them, shown in `list`.
@Suite("Call-ID and From tag of a session")
struct CallIdentityTests {
    @Test("header values become tokens: spaces, control bytes and non-ASCII dropped, at most 128 characters")
    func tokens() {
        #expect(CallIdentity.token("a84b4c76e66710@pc33.atlanta.com") == "a84b4c76e66710@pc33.atlanta.com")
        #expect(CallIdentity.token(" ab c\u{0}d\r\né ") == "abcd")
        #expect(CallIdentity.token(" \r\n") == nil)
        #expect(CallIdentity.token(String(repeating: "x", count: 500))?.count == 128)
        #expect(CallIdentity(callID: "has space") == nil && CallIdentity(callID: "ok", fromTag: "") == nil)
    }

    @Test("alloc carries call-id and from-tag and reads them back; malformed values are refused")
    func wire() throws {
        var request = SessionRequest()
        request.call = CallIdentity(callID: "3848276298220188511@atlanta.example.com", fromTag: "9fxced76sl")
        request[.a].signal = IPAddress("192.0.2.1")
        let line = ControlProtocol.encode(ControlRequest(id: "1", command: .alloc(switchboard: "pub", request: request)))
        #expect(line.contains(" call-id=3848276298220188511@atlanta.example.com from-tag=9fxced76sl "))
        #expect(try ControlProtocol.decodeRequest(Array(line.utf8)) == ControlRequest(id: "1", command: .alloc(switchboard: "pub", request: request)))
        for bad in ["from-tag=x", "call-id=" + String(repeating: "y", count: 129), "call-id=a call-id=b"] {
            #expect(throws: ControlProtocolError.self) { try ControlProtocol.decodeRequest(Array("iptrtp/2 7 alloc pub \(bad)".utf8)) }
        }
        // An update that does not name the call keeps it.
        #expect(request.merging(SessionRequest()).call == request.call)
    }

    @Test("alloc and update pass the call to the plane; list JSON shows it, and reads relays that never sent it")
    func functionsAndList() throws {
        let plane = RecordingPlane(try testSwitchboards())
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let call = CallIdentity(callID: "c1@example.net", fromTag: "t1")
        let offer = crlf("v=0\no=- 1 1 IN IP4 192.0.2.1\ns=-\nc=IN IP4 192.0.2.1\nt=0 0\nm=audio 4000 RTP/AVP 0\n")
        #expect(functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: offer, contentType: nil, call: call, selects: &selects).succeeded)
        guard case .allocate(_, let request) = plane.calls.first else { Issue.record("no alloc"); return }
        #expect(request.call == call)
        let side = SideSnapshot(side: .a, alwaysLearn: false, streams: [])
        let snapshot = SessionSnapshot(switchboard: "pub", handle: SessionHandle(id: 1, created: 2), rtpPorts: [1, 2], age: 0, idle: 0,
                                       sides: [side, side], call: call)
        var w = JSONWriter()
        snapshot.write(to: &w)
        #expect(w.text.contains(#""call-id":"c1@example.net","from-tag":"t1""#))
        let old = w.text.replacingOccurrences(of: #""call-id":"c1@example.net","from-tag":"t1","#, with: "")
        #expect(CallIdentity(json: try JSONParser.parse(old)) == nil)
    }
}

@Suite("Call-ID and From tag read from a SIP message")
struct CallIdentityParseTests {
    @Test("long and compact header names in any case, folded lines, name-addr and bare URIs")
    func headers() {
        let invite = "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n"
            + "From: \"Alice; the caller\" <sip:alice@example.com;transport=udp>;tag=1928301774\r\n"
            + "To: Bob <sip:bob@example.com>\r\ncall-ID:   a84b4c76e66710@pc33.example.com \r\nContent-Length: 0\r\n\r\nCall-ID: body"
        #expect(CallIdentity.parse(sipMessage: Array(invite.utf8)) == CallIdentity(callID: "a84b4c76e66710@pc33.example.com", fromTag: "1928301774"))
        let compact = "INVITE sip:b@x SIP/2.0\ni: 12345\nf: sip:a@x;TAG=abc;x=1\n\n"
        #expect(CallIdentity.parse(sipMessage: Array(compact.utf8)) == CallIdentity(callID: "12345", fromTag: "abc"))
        let folded = "SIP/2.0 200 OK\r\nFrom: <sip:a@x>\r\n ;tag=folded\r\nCall-ID: c\r\n\r\n"
        #expect(CallIdentity.parse(sipMessage: Array(folded.utf8)) == CallIdentity(callID: "c", fromTag: "folded"))
        let noTag = "INVITE sip:b@x SIP/2.0\r\nFrom: <sip:a@x;tag=inside-the-uri>\r\nCall-ID: c\r\n\r\n"
        #expect(CallIdentity.parse(sipMessage: Array(noTag.utf8)) == CallIdentity(callID: "c", fromTag: nil))
        #expect(CallIdentity.parse(sipMessage: Array("INVITE sip:b@x SIP/2.0\r\nFrom: <sip:a@x>;tag=t\r\n\r\n".utf8)) == nil)
    }

    @Test("random and mutated messages never trap", arguments: [7, 8])
    func neverTraps(seed: UInt64) {
        var rng = SeededRandom(state: seed)
        let base = Array("INVITE sip:b@x SIP/2.0\r\nFrom: <sip:a@x>;tag=t\r\n i: x\r\nCall-ID: c\r\n\r\nbody".utf8)
        for _ in 0..<5000 {
            var b = base
            for _ in 0..<Int(rng.next() % 8) { b[Int(rng.next() % UInt64(b.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            if let c = CallIdentity.parse(sipMessage: b) { #expect(CallIdentity.isToken(c.callID)) }
        }
    }
}
