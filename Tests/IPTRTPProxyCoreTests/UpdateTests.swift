import Testing
@testable import IPTRTPProxyCore

@Suite("iptrtpproxy_update")
struct UpdateTests {
    /// Allocates an audio+video offer from gate A's side; returns the functions, plane and ids.
    func callWithTwoMedia() throws -> (ScriptFunctions, RecordingPlane, String) {
        let plane = RecordingPlane(try testSwitchboards())
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let r = functions.alloc(flags: ScriptFlags(1), switchboard: "pub",
                                body: crlf("v=0\nc=IN IP4 192.0.2.10\nm=audio 49170 RTP/AVP 0\nm=video 51372 RTP/AVP 31\n"),
                                contentType: nil, selects: &selects)
        #expect(r.succeeded)
        plane.calls = []
        return (functions, plane, selects.sessionIDs!)
    }

    @Test("an answer from gate B's side is pointed at gate A and updates side B's addresses")
    func answer() throws {
        let (functions, plane, ids) = try callWithTwoMedia()
        #expect(ids == "pub:0/1000,1/1000")
        var selects = SelectValues()
        let result = functions.update(flags: ScriptFlags(0), sessionIDs: ids,
                                      body: crlf("v=0\nc=IN IP4 198.51.100.20\nm=audio 5004 RTP/AVP 0\nm=video 5006 RTP/AVP 31\n"),
                                      contentType: nil, selects: &selects)
        #expect(result.succeeded)
        #expect(text(result.body) == text(crlf("v=0\nc=IN IP4 10.0.0.1\nm=audio 30000 RTP/AVP 0\nm=video 30002 RTP/AVP 31\n")))
        #expect(selects.sessionIDs == ids)
        #expect(selects.sdpIP == "198.51.100.20")
        var expected = SessionRequest()
        expected[.b].streams = [StreamRequest(address: Endpoint(address: IPAddress("198.51.100.20")!, port: 5004)),
                                StreamRequest(address: Endpoint(address: IPAddress("198.51.100.20")!, port: 5005))]
        #expect(plane.calls.first == .update("pub", SessionHandle(id: 0, created: 1000), expected))
        #expect(plane.calls.count == 2)
    }

    @Test("a media put to port 0 releases its session; the others stay")
    func holdVideo() throws {
        let (functions, plane, ids) = try callWithTwoMedia()
        var selects = SelectValues()
        let result = functions.update(flags: ScriptFlags(0), sessionIDs: ids,
                                      body: crlf("v=0\nc=IN IP4 198.51.100.20\nm=audio 5004 RTP/AVP 0\nm=video 0 RTP/AVP 31\n"),
                                      contentType: nil, selects: &selects)
        #expect(text(result.body) == text(crlf("v=0\nc=IN IP4 10.0.0.1\nm=audio 30000 RTP/AVP 0\nm=video 0 RTP/AVP 31\nc=IN IP4 198.51.100.20\n")))
        #expect(selects.sessionIDs == "pub:0/1000,")
        #expect(plane.calls.last == .delete("pub", 1...1, 1000))
        #expect(plane.liveSessions == 1)
    }

    @Test("a re-INVITE that adds a stream gets a new session for it (the m= count may change)")
    func addStream() throws {
        let (functions, plane, _) = try callWithTwoMedia()
        var selects = SelectValues()
        let result = functions.update(flags: ScriptFlags(1), sessionIDs: "pub:0/1000",
                                      body: crlf("v=0\nc=IN IP4 192.0.2.10\nm=audio 49170 RTP/AVP 0\nm=video 51372 RTP/AVP 31\n"),
                                      contentType: nil, selects: &selects)
        #expect(result.succeeded)
        // Session 1 still belongs to the old video (not in this list); the new video gets slot 2.
        #expect(selects.sessionIDs == "pub:0/1000,2/1000")
        #expect(text(result.body) == text(crlf("v=0\nc=IN IP4 203.0.113.1\nm=audio 40000 RTP/AVP 0\nm=video 40004 RTP/AVP 31\n")))
        #expect(plane.liveSessions == 3)
    }

    @Test("a removed m= line releases its session")
    func removedStream() throws {
        let (functions, plane, ids) = try callWithTwoMedia()
        var selects = SelectValues()
        let result = functions.update(flags: ScriptFlags(0), sessionIDs: ids,
                                      body: crlf("v=0\nc=IN IP4 198.51.100.20\nm=audio 5004 RTP/AVP 0\n"),
                                      contentType: nil, selects: &selects)
        #expect(result.succeeded)
        #expect(selects.sessionIDs == "pub:0/1000")
        #expect(plane.liveSessions == 1)
    }

    @Test("media without a session are not forced to port 0")
    func inactiveUntouched() throws {
        let (functions, _, _) = try callWithTwoMedia()
        var selects = SelectValues()
        let body = crlf("v=0\nm=audio 5004 RTP/AVP 0\nc=IN IP4 198.51.100.20\nm=message 7000 TCP/MSRP *\nc=IN IP4 198.51.100.20\n")
        let result = functions.update(flags: ScriptFlags(0), sessionIDs: "pub:0/1000,", body: body, contentType: nil, selects: &selects)
        #expect(text(result.body) == text(crlf("v=0\nm=audio 30000 RTP/AVP 0\nc=IN IP4 10.0.0.1\nm=message 7000 TCP/MSRP *\nc=IN IP4 198.51.100.20\n")))
    }

    @Test("media sharing an address must share a session", arguments: [
        ("pub:0/1000,1/1000", "v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\nm=audio 4000 RTP/AVP 8\n",
         "update: m= lines 3 and 4 share an address but not a session"),
        ("pub:0/1000,0/1000", "v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\nm=audio 4002 RTP/AVP 8\n",
         "update: m= lines 3 and 4 share a session but not an address"),
    ])
    func inconsistent(ids: String, body: String, error: String) throws {
        let (functions, plane, _) = try callWithTwoMedia()
        var selects = SelectValues()
        let result = functions.update(flags: ScriptFlags(0), sessionIDs: ids, body: Array(body.utf8), contentType: nil, selects: &selects)
        #expect(result == .failure(error))
        #expect(plane.calls.isEmpty)
    }

    @Test("a plane error fails the update and leaves the SDP untouched")
    func planeError() throws {
        let (functions, plane, ids) = try callWithTwoMedia()
        plane.failUpdates = true
        var selects = SelectValues()
        let result = functions.update(flags: ScriptFlags(0), sessionIDs: ids,
                                      body: crlf("v=0\nc=IN IP4 198.51.100.20\nm=audio 5004 RTP/AVP 0\n"), contentType: nil, selects: &selects)
        #expect(result == .failure("update of pub:0/1000 for m= line 3: relay refused update (test)"))
        #expect(selects.sessionIDs == nil)
    }

    @Test("a stale created stamp is refused by the plane")
    func staleStamp() throws {
        let (functions, _, _) = try callWithTwoMedia()
        var selects = SelectValues()
        let result = functions.update(flags: ScriptFlags(0), sessionIDs: "pub:0/999",
                                      body: crlf("v=0\nc=IN IP4 198.51.100.20\nm=audio 5004 RTP/AVP 0\n"), contentType: nil, selects: &selects)
        #expect(result.error == "update of pub:0/999 for m= line 3: switchboard 'pub': no session 0/999")
    }
}
