import Testing
@testable import IPTRTPProxyCore

@Suite("SDP rewriter changes only the tokens it must")
struct SDPRewriterTests {
    let gate = MediaTarget(address: IPAddress("203.0.113.1")!, rtpPort: 40000)

    @Test("session-level c= is rewritten once; m= ports and a=rtcp follow the relay")
    func rewriteAll() throws {
        let input = crlf("""
            v=0
            o=alice 1 1 IN IP4 192.0.2.10
            s=-
            c=IN IP4 192.0.2.10
            t=0 0
            m=audio 49170 RTP/AVP 0
            a=rtcp:49171
            m=video 51372 RTP/AVP 31
            a=rtcp:51373 IN IP4 192.0.2.10

            """)
        let sdp = try SDPParser.parse(input)
        let out = SDPRewriter.rewrite(sdp, targets: [gate, MediaTarget(address: gate.address, rtpPort: 40002)])
        #expect(out.bytes == crlf("""
            v=0
            o=alice 1 1 IN IP4 192.0.2.10
            s=-
            c=IN IP4 203.0.113.1
            t=0 0
            m=audio 40000 RTP/AVP 0
            a=rtcp:40001
            m=video 40002 RTP/AVP 31
            a=rtcp:40003 IN IP4 203.0.113.1

            """))
        #expect(out.firstRewrittenAddress == "192.0.2.10")
    }

    @Test("media without a target stay as they were")
    func untouchedMedia() throws {
        let input = crlf("v=0\nm=audio 4000 RTP/AVP 0\nc=IN IP4 192.0.2.1\nm=audio 0 RTP/AVP 0\nc=IN IP4 192.0.2.2\n")
        let out = SDPRewriter.rewrite(try SDPParser.parse(input), targets: [gate, nil])
        #expect(out.bytes == crlf("v=0\nm=audio 40000 RTP/AVP 0\nc=IN IP4 203.0.113.1\nm=audio 0 RTP/AVP 0\nc=IN IP4 192.0.2.2\n"))
    }

    @Test("an IPv4 SDP towards an IPv6 gate changes the address type too")
    func familyChange() throws {
        let input = Array("v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n".utf8)
        let v6 = MediaTarget(address: IPAddress("2001:db8::10")!, rtpPort: 50000)
        let out = SDPRewriter.rewrite(try SDPParser.parse(input), targets: [v6])
        #expect(text(out.bytes) == "v=0\nc=IN IP6 2001:db8::10\nm=audio 50000 RTP/AVP 0\n")
    }

    @Test("hold with c=0.0.0.0 keeps its address")
    func holdAddress() throws {
        let input = Array("v=0\nc=IN IP4 0.0.0.0\nm=audio 4000 RTP/AVP 0\n".utf8)
        let out = SDPRewriter.rewrite(try SDPParser.parse(input), targets: [gate])
        #expect(text(out.bytes) == "v=0\nc=IN IP4 0.0.0.0\nm=audio 40000 RTP/AVP 0\n")
        #expect(out.firstRewrittenAddress == nil)
    }

    @Test("LF line endings are preserved")
    func lfPreserved() throws {
        let input = Array("v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\na=sendrecv\n".utf8)
        let out = SDPRewriter.rewrite(try SDPParser.parse(input), targets: [gate])
        #expect(text(out.bytes) == "v=0\nc=IN IP4 203.0.113.1\nm=audio 40000 RTP/AVP 0\na=sendrecv\n")
    }
}
