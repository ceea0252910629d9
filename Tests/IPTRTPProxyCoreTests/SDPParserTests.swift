import Testing
@testable import IPTRTPProxyCore

@Suite("SDP parser follows the original module (spec §3) with its intended fixes")
struct SDPParserTests {
    @Test("session-level c= is inherited by supported media")
    func sessionLevelConnection() throws {
        let sdp = try SDPParser.parse(crlf("""
            v=0
            o=- 1 1 IN IP4 192.0.2.10
            s=-
            c=IN IP4 192.0.2.10
            t=0 0
            m=audio 49170 RTP/AVP 0
            m=video 51372 RTP/AVP 31

            """))
        #expect(sdp.media.count == 2)
        #expect(sdp.media.map(\.isActive) == [true, true])
        #expect(sdp.media[0].endpoint == Endpoint(address: .v4(0xC000_020A), port: 49170))
        #expect(sdp.media[1].endpoint?.port == 51372)
    }

    @Test("media-level c= overrides the session level")
    func mediaLevelConnection() throws {
        let sdp = try SDPParser.parse(crlf("""
            v=0
            c=IN IP4 192.0.2.10
            m=audio 49170 RTP/AVP 0
            c=IN IP4 192.0.2.77
            m=audio 49180 RTP/AVP 0

            """))
        #expect(sdp.media[0].endpoint?.address == IPAddress("192.0.2.77"))
        #expect(sdp.media[1].endpoint?.address == IPAddress("192.0.2.10"))
    }

    @Test("port 0, unsupported transports and media without an address are inactive")
    func inactiveMedia() throws {
        let sdp = try SDPParser.parse(crlf("""
            v=0
            m=audio 0 RTP/AVP 0
            c=IN IP4 192.0.2.10
            m=message 7394 TCP/MSRP *
            c=IN IP4 192.0.2.10
            m=image 6000 udptl t38
            c=IN IP4 192.0.2.10
            m=audio 49170 RTP/AVP 0

            """))
        // The last has no c= at all; the original's quirk of activating port 0 and TCP is fixed.
        #expect(sdp.media.map(\.isActive) == [false, false, true, false])
    }

    @Test("transports compare case-insensitively, DTLS-SRTP profiles included",
          arguments: ["RTP/AVP", "rtp/avp", "RTP/SAVP", "RTP/AVPF", "RTP/SAVPF", "UDP", "udptl", "UDP/TLS/RTP/SAVPF"])
    func transports(transport: String) throws {
        let sdp = try SDPParser.parse(crlf("v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 \(transport) 0\n"))
        #expect(sdp.media[0].isActive)
    }

    @Test("a second session-level c= clears the session address")
    func secondSessionConnection() throws {
        let sdp = try SDPParser.parse(crlf("v=0\nc=IN IP4 192.0.2.1\nc=IN IP4 192.0.2.2\nm=audio 4000 RTP/AVP 0\n"))
        #expect(sdp.sessionConnection == nil)
        #expect(!sdp.media[0].isActive)
    }

    @Test("a second or malformed media-level c= makes the media inactive")
    func badMediaConnection() throws {
        let sdp = try SDPParser.parse(crlf("""
            v=0
            c=IN IP4 192.0.2.1
            m=audio 4000 RTP/AVP 0
            c=IN IP4 192.0.2.5
            c=IN IP4 192.0.2.6
            m=audio 4002 RTP/AVP 0
            c=IN IP4 224.2.1.1/127
            m=audio 4004 RTP/AVP 0
            c=IN IP4 192.0.2.7

            """))
        #expect(sdp.media.map(\.isActive) == [false, false, true])
    }

    @Test("IN IP6 is understood; a family mismatch is malformed")
    func ipv6Connection() throws {
        let sdp = try SDPParser.parse(crlf("v=0\nc=IN IP6 2001:db8::5\nm=audio 4000 RTP/AVP 0\nm=audio 4002 RTP/AVP 0\nc=IN IP4 2001:db8::5\n"))
        #expect(sdp.media[0].endpoint?.address == IPAddress("2001:db8::5"))
        #expect(!sdp.media[1].isActive)
    }

    @Test("a host name in c= keeps the media active without a numeric address")
    func hostName() throws {
        let sdp = try SDPParser.parse(crlf("v=0\nc=IN IP4 phone.example.com\nm=audio 4000 RTP/AVP 0\n"))
        #expect(sdp.media[0].isActive)
        #expect(sdp.media[0].connection?.address == nil)
        #expect(sdp.media[0].endpoint == nil)
    }

    @Test("the port token drops its /count suffix")
    func portCount() throws {
        let sdp = try SDPParser.parse(crlf("v=0\nc=IN IP4 192.0.2.1\nm=video 4000/2 RTP/AVP 31\n"))
        #expect(sdp.media[0].port == 4000)
        #expect(Array(sdp.bytes[sdp.media[0].portRange]) == Array("4000".utf8))
    }

    @Test("a=rtcp is recorded with and without an address")
    func rtcpAttribute() throws {
        let sdp = try SDPParser.parse(crlf("v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\na=rtcp:4001\nm=audio 5000 RTP/AVP 0\na=rtcp:5003 IN IP4 192.0.2.9\n"))
        #expect(sdp.media[0].rtcp?.port == 4001)
        #expect(sdp.media[0].rtcp?.addressRange == nil)
        #expect(sdp.media[1].rtcp?.port == 5003)
        #expect(sdp.media[1].rtcp?.addressRange != nil)
    }

    @Test("LF-only SDP parses like CRLF SDP")
    func lfOnly() throws {
        let sdp = try SDPParser.parse(Array("v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n".utf8))
        #expect(sdp.media[0].isActive)
    }

    @Test("lines that are not x=value are ignored")
    func ignoredLines() throws {
        let sdp = try SDPParser.parse(crlf("v=0\nxx\nc=IN IP4 192.0.2.1\n=\n  m=audio 1 RTP/AVP 0\nm=audio 4000 RTP/AVP 0\n"))
        #expect(sdp.media.count == 1)
    }

    @Test("errors name the line", arguments: [
        ("c=IN IP4 192.0.2.1\nv=0\n", "SDP line 1: c= before v="),
        ("m=audio 4000 RTP/AVP 0\n", "SDP line 1: m= before v="),
        ("v=0\nv=0\n", "SDP line 2: a second v= line"),
        ("v=0\nm=audio\n", "SDP line 2: m= needs media, port and transport"),
        ("v=0\nm=audio 70000 RTP/AVP 0\n", "SDP line 2: m= port '70000' is not a port number"),
        ("v=0\nm=audio x RTP/AVP 0\n", "SDP line 2: m= port 'x' is not a port number"),
    ])
    func errors(input: String, message: String) {
        #expect(throws: SDPError.self) { try SDPParser.parse(Array(input.utf8)) }
        do { _ = try SDPParser.parse(Array(input.utf8)) } catch let e as SDPError { #expect(e.message == message) } catch {}
    }

    @Test("at least 20 m= lines are accepted; more than the limit is an error")
    func mediaLimit() throws {
        let twenty = "v=0\nc=IN IP4 192.0.2.1\n" + (0..<20).map { "m=audio \(4000 + 2 * $0) RTP/AVP 0\n" }.joined()
        #expect(try SDPParser.parse(Array(twenty.utf8)).media.count == 20)
        let tooMany = "v=0\n" + (0...SDPParser.maxMedia).map { _ in "m=audio 4000 RTP/AVP 0\n" }.joined()
        #expect(throws: SDPError.self) { try SDPParser.parse(Array(tooMany.utf8)) }
    }
}
