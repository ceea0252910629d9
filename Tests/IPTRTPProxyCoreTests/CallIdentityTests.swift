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
