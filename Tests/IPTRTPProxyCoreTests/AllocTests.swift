import Testing
@testable import IPTRTPProxyCore

@Suite("iptrtpproxy_alloc")
struct AllocTests {
    let offer = crlf("""
        v=0
        o=alice 1 1 IN IP4 192.0.2.10
        s=-
        c=IN IP4 192.0.2.10
        t=0 0
        m=audio 49170 RTP/AVP 0
        m=video 51372 RTP/AVP 31
        m=audio 49170 RTP/AVP 8
        m=audio 0 RTP/AVP 0

        """)

    @Test("the message's source address goes to the SDP side's request, with every alloc, update and adjust_timeout; an unparsable c= leaves only it")
    func signallingAddress() throws {
        let plane = RecordingPlane(try testSwitchboards())
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let caller = IPAddress("198.51.100.77")!, callee = IPAddress("203.0.113.99")!
        let unparsable = crlf("v=0\no=a 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 256.1.1.1\nt=0 0\nm=audio 49170 RTP/AVP 0\n")
        #expect(functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: unparsable, contentType: "application/sdp",
                                signal: caller, selects: &selects).succeeded)
        guard case .allocate(_, let offered) = plane.calls.last else { Issue.record("no allocation: \(plane.calls)"); return }
        #expect(offered[.a].signal == caller && offered[.b].signal == nil)
        #expect(offered[.a].streams.allSatisfy { $0.address == nil })
        let ids = try #require(selects.sessionIDs)
        let answer = crlf("v=0\no=b 1 1 IN IP4 192.0.2.20\ns=-\nc=IN IP4 192.0.2.20\nt=0 0\nm=audio 5000 RTP/AVP 0\n")
        #expect(functions.update(flags: ScriptFlags(0), sessionIDs: ids, body: answer, contentType: "application/sdp",
                                 signal: callee, selects: &selects).succeeded)
        guard case .update(_, _, let answered) = plane.calls.last else { Issue.record("no update: \(plane.calls)"); return }
        #expect(answered[.b].signal == callee && answered[.a].isEmpty)
        #expect(functions.adjustTimeout(flags: ScriptFlags(0), sessionIDs: ids, signal: callee, selects: &selects).succeeded)
        guard case .update(_, _, let adjusted) = plane.calls.last else { Issue.record("no update: \(plane.calls)"); return }
        #expect(adjusted[.b].signal == callee)
    }

    @Test("an offer from gate A's side is pointed at gate B; shared address:port shares a session")
    func allocFromA() throws {
        let plane = RecordingPlane(try testSwitchboards())
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let result = functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: offer,
                                     contentType: "application/sdp", selects: &selects)
        #expect(result.succeeded)
        #expect(text(result.body) == text(crlf("""
            v=0
            o=alice 1 1 IN IP4 192.0.2.10
            s=-
            c=IN IP4 203.0.113.1
            t=0 0
            m=audio 40000 RTP/AVP 0
            m=video 40002 RTP/AVP 31
            m=audio 40000 RTP/AVP 8
            m=audio 0 RTP/AVP 0
            c=IN IP4 192.0.2.10

            """)))
        #expect(selects.sessionIDs == "pub:0/1000,1/1000,0/1000,")
        #expect(selects.sdpIP == "192.0.2.10")
        // Two allocations, each describing side A's RTP and RTCP addresses.
        var expected = SessionRequest()
        expected[.a] = SourceRequest(streams: [
            StreamRequest(address: Endpoint(address: IPAddress("192.0.2.10")!, port: 49170)),
            StreamRequest(address: Endpoint(address: IPAddress("192.0.2.10")!, port: 49171)),
        ])
        #expect(plane.calls.first == .allocate("pub", expected))
        #expect(plane.calls.count == 2)
    }

    @Test("sdp_ip is the empty string until an address is rewritten: before any call, after a failed alloc, after an alloc on hold")
    func sdpIPEmptyByDefault() throws {
        let plane = RecordingPlane(try testSwitchboards())
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        #expect(selects.sdpIP == "")
        #expect(!functions.alloc(flags: ScriptFlags(1), switchboard: "nope", body: offer, contentType: nil, selects: &selects).succeeded)
        #expect(selects.sdpIP == "")
        let hold = crlf("v=0\no=a 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 49170 RTP/AVP 0\n")
        #expect(functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: hold, contentType: nil, selects: &selects).succeeded)
        #expect(selects.sessionIDs == "pub:0/1000" && selects.sdpIP == "")
    }

    @Test("flag bit 1 sets the ringing timeout as the learning timeout of the SDP's side")
    func ringing() throws {
        let set = try testSwitchboards(params: ["name=pub;learning-timeout-b=5;always-learn-b=1;ringing-timeout=90"])
        let plane = RecordingPlane(set)
        let functions = ScriptFunctions(switchboards: set, plane: plane)
        var selects = SelectValues()
        _ = functions.alloc(flags: ScriptFlags(2), switchboard: "pub", body: crlf("v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n"),
                            contentType: nil, selects: &selects)
        guard case .allocate(_, let request) = plane.calls.first else { Issue.record("no allocation"); return }
        #expect(request[.b].alwaysLearn)
        #expect(request[.b].streams.map(\.learningTimeout) == [90, 90])
        #expect(request[.a].isEmpty)
        _ = functions.alloc(flags: ScriptFlags(0), switchboard: "pub", body: crlf("v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n"),
                            contentType: nil, selects: &selects)
        guard case .allocate(_, let second) = plane.calls.last else { Issue.record("no allocation"); return }
        #expect(second[.b].streams.map(\.learningTimeout) == [5, 5])
    }

    @Test("a failed allocation deletes what was allocated and leaves the SDP untouched")
    func rollback() throws {
        let plane = RecordingPlane(try testSwitchboards())
        plane.failAllocation = 1
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let result = functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: offer, contentType: nil, selects: &selects)
        #expect(!result.succeeded)
        #expect(result.body == nil)
        #expect(result.error == "alloc on 'pub' for m= line 7: relay refused (test)")
        #expect(plane.calls.last == .delete("pub", 0...0, 1000))
        #expect(plane.liveSessions == 0)
        #expect(selects.sessionIDs == nil)
    }

    @Test("exhausted ports: -1 with the plane's reason, nothing left allocated")
    func exhausted() throws {
        let plane = RecordingPlane(try testSwitchboards())
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let five = crlf("v=0\n" + (0..<5).map { "m=audio \(4000 + 2 * $0) RTP/AVP 0\nc=IN IP4 192.0.2.1\n" }.joined())
        let result = functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: five, contentType: nil, selects: &selects)
        #expect(!result.succeeded)
        #expect(result.error?.contains("all 4 sessions are in use or resting") == true)
        #expect(plane.liveSessions == 0)
    }

    @Test("bad input returns -1 with one reason", arguments: [
        ("pub", "application/sdp", "v=0\nv=0\n", "alloc: SDP line 2: a second v= line"),
        ("nope", "application/sdp", "v=0\n", "alloc: unknown switchboard 'nope'"),
        ("", "application/sdp", "v=0\n", "alloc: no switchboard given and iptrtpproxy_find matched none in this run"),
        ("pub", "text/plain", "v=0\n", "alloc: the message has no application/sdp body"),
    ])
    func badInput(switchboard: String, contentType: String, body: String, error: String) throws {
        let plane = RecordingPlane(try testSwitchboards())
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let result = functions.alloc(flags: ScriptFlags(1), switchboard: switchboard, body: Array(body.utf8),
                                     contentType: contentType, selects: &selects)
        #expect(result == .failure(error))
        #expect(plane.calls.isEmpty)
    }

    @Test("an empty switchboard uses the one iptrtpproxy_find matched")
    func afterFind() throws {
        let plane = RecordingPlane(try testSwitchboards())
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        #expect(functions.find(gateA: "203.0.113.1:5060", gateB: "10.0.0.1", selects: &selects).succeeded)
        #expect(selects.switchboard == "pub" && selects.direction == 0)
        let result = functions.alloc(flags: ScriptFlags(0), switchboard: "", body: crlf("v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n"),
                                     contentType: nil, selects: &selects)
        #expect(text(result.body) == text(crlf("v=0\nc=IN IP4 10.0.0.1\nm=audio 30000 RTP/AVP 0\n")))
    }

    @Test("zero media: success with the bare switchboard name and the body unchanged")
    func zeroMedia() throws {
        let plane = RecordingPlane(try testSwitchboards())
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let result = functions.alloc(flags: ScriptFlags(1), switchboard: "PUB", body: crlf("v=0\ns=-\n"), contentType: nil, selects: &selects)
        #expect(result == .success())
        #expect(selects.sessionIDs == "pub")
    }

    @Test("the SDP part of a multipart body is rewritten in place")
    func multipartBody() throws {
        let plane = RecordingPlane(try testSwitchboards())
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let body = crlf("--b\nContent-Type: application/sdp\n\nv=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n\n--b\nContent-Type: text/plain\n\nhi\n--b--\n")
        let result = functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: body, contentType: "multipart/mixed;boundary=b", selects: &selects)
        #expect(text(result.body) == text(crlf("--b\nContent-Type: application/sdp\n\nv=0\nc=IN IP4 203.0.113.1\nm=audio 40000 RTP/AVP 0\n\n--b\nContent-Type: text/plain\n\nhi\n--b--\n")))
    }
}
