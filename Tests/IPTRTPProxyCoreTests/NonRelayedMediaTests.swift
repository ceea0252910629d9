import Testing
@testable import IPTRTPProxyCore

/// Media the relay does not carry keep reaching the phone when the session-level `c=` is pointed
/// at a gate: they get a media-level `c=` with the original address.
@Suite("Only relayed media follow the gate")
struct NonRelayedMediaTests {
    @Test("BFCP over TCP, a port-0 video and an MSRP media with its own c=: only the ones without c= get the session address, after m= and i=")
    func bfcpAndPortZero() throws {
        let offer = crlf("""
            v=0
            o=alice 1 1 IN IP4 192.0.2.10
            s=-
            c=IN IP4 192.0.2.10
            t=0 0
            m=audio 49170 RTP/AVP 0
            a=rtcp:49171
            m=application 5060 TCP/BFCP *
            i=floor control
            b=AS:64
            a=setup:active
            a=connection:new
            m=video 0 RTP/AVP 31
            a=inactive
            m=message 2855 TCP/MSRP *
            c=IN IP4 192.0.2.99
            a=path:msrp://192.0.2.99:2855/s;tcp

            """)
        let (result, selects) = try allocFromA(offer)
        #expect(result.succeeded)
        #expect(text(result.body) == text(crlf("""
            v=0
            o=alice 1 1 IN IP4 192.0.2.10
            s=-
            c=IN IP4 203.0.113.1
            t=0 0
            m=audio 40000 RTP/AVP 0
            a=rtcp:40001
            m=application 5060 TCP/BFCP *
            i=floor control
            c=IN IP4 192.0.2.10
            b=AS:64
            a=setup:active
            a=connection:new
            m=video 0 RTP/AVP 31
            c=IN IP4 192.0.2.10
            a=inactive
            m=message 2855 TCP/MSRP *
            c=IN IP4 192.0.2.99
            a=path:msrp://192.0.2.99:2855/s;tcp

            """)))
        #expect(selects.sessionIDs == "pub:0/1000,,,")
    }

    @Test("LF endings are kept, an IPv6 session address keeps its type, and a last line without an ending gets the c= after it")
    func lfAndLastLine() throws {
        let offer = Array("v=0\no=- 1 1 IN IP6 2001:db8::7\ns=-\nc=IN IP6 2001:db8::7\nt=0 0\nm=audio 49170 RTP/AVP 0\nm=application 9 TCP/BFCP *".utf8)
        let sdp = try SDPParser.parse(offer)
        let out = SDPRewriter.rewrite(sdp, targets: [MediaTarget(address: IPAddress("203.0.113.1")!, rtpPort: 40000), nil])
        #expect(text(out.bytes) == "v=0\no=- 1 1 IN IP6 2001:db8::7\ns=-\nc=IN IP4 203.0.113.1\nt=0 0\nm=audio 40000 RTP/AVP 0\nm=application 9 TCP/BFCP *\nc=IN IP6 2001:db8::7")
    }

    @Test("a session-level c= that is not rewritten adds nothing: hold, or no relayed media at all")
    func nothingRewrittenNothingAdded() throws {
        let hold = crlf("v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 49170 RTP/AVP 0\nm=application 5060 TCP/BFCP *\n")
        let (held, _) = try allocFromA(hold)
        #expect(text(held.body) == text(crlf("v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 0.0.0.0\nt=0 0\nm=audio 40000 RTP/AVP 0\nm=application 5060 TCP/BFCP *\n")))

        let tcpOnly = crlf("v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=application 5060 TCP/BFCP *\n")
        let (untouched, _) = try allocFromA(tcpOnly)
        #expect(untouched.succeeded && untouched.body == nil)
    }

    @Test("an answer through update gives its non-relayed media the answerer's address")
    func update() throws {
        let plane = RecordingPlane(try testSwitchboards())
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let offer = crlf("v=0\no=a 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\nm=audio 49170 RTP/AVP 0\nm=application 5060 TCP/BFCP *\n")
        #expect(functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: offer, contentType: nil, selects: &selects).succeeded)
        let ids = try #require(selects.sessionIDs)
        let answer = crlf("v=0\no=b 1 1 IN IP4 198.51.100.20\ns=-\nc=IN IP4 198.51.100.20\nt=0 0\nm=audio 5004 RTP/AVP 0\nm=application 5070 TCP/BFCP *\na=setup:passive\n")
        let result = functions.update(flags: ScriptFlags(0), sessionIDs: ids, body: answer, contentType: nil, selects: &selects)
        #expect(text(result.body) == text(crlf("v=0\no=b 1 1 IN IP4 198.51.100.20\ns=-\nc=IN IP4 10.0.0.1\nt=0 0\nm=audio 30000 RTP/AVP 0\nm=application 5070 TCP/BFCP *\nc=IN IP4 198.51.100.20\na=setup:passive\n")))
    }
}
