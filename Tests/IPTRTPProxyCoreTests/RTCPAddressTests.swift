import Testing
@testable import IPTRTPProxyCore

/// Where the relay is told to send each side's RTCP: the `a=rtcp` line of the side's SDP (RFC 3605),
/// else the RTP port + 1; the SDP the other side sees points at the relay's RTCP port.
@Suite("RTCP address from a=rtcp")
struct RTCPAddressTests {
    /// The alloc request of `offer` (from side A) and the rewritten offer.
    func allocate(_ offer: String) throws -> (request: SessionRequest, body: String?) {
        let plane = RecordingPlane(try testSwitchboards())
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let result = functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: crlf(offer),
                                     contentType: "application/sdp", selects: &selects)
        #expect(result.succeeded)
        guard case .allocate(_, let request) = plane.calls.first else {
            Issue.record("no allocation: \(plane.calls)")
            return (SessionRequest(), nil)
        }
        return (request, text(result.body))
    }

    func rtcp(_ request: SessionRequest, _ side: GateSide = .a) -> Endpoint? { request[side].streams[1].address }

    @Test("a=rtcp with an address: the RTCP stream goes to that address and port; the SDP points at the relay's RTCP port")
    func rtcpWithAddress() throws {
        let (request, body) = try allocate("""
            v=0
            o=alice 1 1 IN IP4 192.0.2.10
            s=-
            c=IN IP4 192.0.2.10
            t=0 0
            m=audio 49170 RTP/AVP 0
            a=rtcp:53020 IN IP4 192.0.2.7

            """)
        #expect(request[.a].streams[0].address == Endpoint(address: IPAddress("192.0.2.10")!, port: 49170))
        #expect(rtcp(request) == Endpoint(address: IPAddress("192.0.2.7")!, port: 53020))
        #expect(body == text(crlf("""
            v=0
            o=alice 1 1 IN IP4 192.0.2.10
            s=-
            c=IN IP4 203.0.113.1
            t=0 0
            m=audio 40000 RTP/AVP 0
            a=rtcp:40001 IN IP4 203.0.113.1

            """)))
    }

    @Test("a=rtcp with a port only: the media's address at that port")
    func rtcpPortOnly() throws {
        let (request, body) = try allocate("""
            v=0
            o=alice 1 1 IN IP4 192.0.2.10
            s=-
            c=IN IP4 192.0.2.10
            t=0 0
            m=audio 49170 RTP/AVP 0
            a=rtcp:53020

            """)
        #expect(rtcp(request) == Endpoint(address: IPAddress("192.0.2.10")!, port: 53020))
        #expect(body?.contains("a=rtcp:40001\r\n") == true)
    }

    @Test("no a=rtcp: the RTP port + 1 (RFC 3550)")
    func noRTCPAttribute() throws {
        let (request, _) = try allocate("v=0\nc=IN IP4 192.0.2.10\nm=audio 49170 RTP/AVP 0\n")
        #expect(rtcp(request) == Endpoint(address: IPAddress("192.0.2.10")!, port: 49171))
    }

    @Test("a=rtcp in IPv6 under an IPv6 c=")
    func rtcpIPv6() throws {
        let sdp = try SDPParser.parse(crlf("v=0\nc=IN IP6 2001:db8::1\nm=audio 4000 RTP/AVP 0\na=rtcp:6001 IN IP6 2001:db8::7\n"))
        #expect(sdp.media[0].rtcpEndpoint == Endpoint(address: IPAddress("2001:db8::7")!, port: 6001))
    }

    @Test("an a=rtcp address of the other family than the c= gives no RTCP address (a side talks to the relay in one family)")
    func rtcpOtherFamily() throws {
        let sdp = try SDPParser.parse(crlf("v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\na=rtcp:6001 IN IP6 2001:db8::7\n"))
        #expect(sdp.media[0].endpoint == Endpoint(address: IPAddress("192.0.2.1")!, port: 4000))
        #expect(sdp.media[0].rtcpEndpoint == nil)
    }

    @Test("rtcp-mux: one session with its two relay ports; a=rtcp (the RTP port) is where non-multiplexed RTCP goes; a=rtcp-mux passes through")
    func rtcpMux() throws {
        let (request, body) = try allocate("""
            v=0
            o=alice 1 1 IN IP4 192.0.2.10
            s=-
            c=IN IP4 192.0.2.10
            t=0 0
            m=audio 49170 RTP/AVP 0
            a=rtcp:49170
            a=rtcp-mux

            """)
        #expect(request[.a].streams[0].address == Endpoint(address: IPAddress("192.0.2.10")!, port: 49170))
        #expect(rtcp(request) == Endpoint(address: IPAddress("192.0.2.10")!, port: 49170))
        #expect(body?.hasSuffix("m=audio 40000 RTP/AVP 0\r\na=rtcp:40001\r\na=rtcp-mux\r\n") == true)
    }

    @Test("a browser's a=rtcp:9 IN IP4 0.0.0.0 holds the RTCP stream (nothing is sent there), RTP is relayed")
    func browserPlaceholder() throws {
        let (request, _) = try allocate("""
            v=0
            o=- 1 2 IN IP4 127.0.0.1
            s=-
            t=0 0
            m=audio 51000 UDP/TLS/RTP/SAVPF 111
            c=IN IP4 192.0.2.10
            a=rtcp:9 IN IP4 0.0.0.0
            a=rtcp-mux

            """)
        #expect(request[.a].streams[0].address == Endpoint(address: IPAddress("192.0.2.10")!, port: 51000))
        #expect(rtcp(request)?.address.isUnspecified == true)
    }

    @Test("hold (c=0.0.0.0) holds RTCP too, even when a=rtcp names an address")
    func holdHoldsRTCP() throws {
        let sdp = try SDPParser.parse(crlf("v=0\nc=IN IP4 0.0.0.0\nm=audio 4000 RTP/AVP 0\na=rtcp:6001 IN IP4 192.0.2.7\n"))
        #expect(sdp.media[0].rtcpEndpoint == Endpoint(address: IPAddress("0.0.0.0")!, port: 6001))
    }

    @Test("an a=rtcp address that is not numeric gives no RTCP address (only the signalling host is learned)")
    func unparsableRTCPAddress() throws {
        let (request, _) = try allocate("v=0\nc=IN IP4 192.0.2.10\nm=audio 49170 RTP/AVP 0\na=rtcp:53020 IN IP4 rtcp.example\n")
        #expect(request[.a].streams[0].address == Endpoint(address: IPAddress("192.0.2.10")!, port: 49170))
        #expect(rtcp(request) == nil)
    }

    @Test("the answer's a=rtcp reaches the update of side B")
    func answerUpdate() throws {
        let plane = RecordingPlane(try testSwitchboards())
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        #expect(functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: crlf("v=0\nc=IN IP4 192.0.2.10\nm=audio 49170 RTP/AVP 0\n"),
                                contentType: "application/sdp", selects: &selects).succeeded)
        let ids = try #require(selects.sessionIDs)
        let answer = crlf("v=0\nc=IN IP4 198.51.100.5\nm=audio 5000 RTP/AVP 0\na=rtcp:5111 IN IP4 198.51.100.6\n")
        #expect(functions.update(flags: ScriptFlags(0), sessionIDs: ids, body: answer, contentType: "application/sdp",
                                 selects: &selects).succeeded)
        guard case .update(_, _, let answered) = plane.calls.last else { Issue.record("no update: \(plane.calls)"); return }
        #expect(rtcp(answered, .b) == Endpoint(address: IPAddress("198.51.100.6")!, port: 5111))
    }
}
