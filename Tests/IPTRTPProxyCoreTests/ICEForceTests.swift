import Testing
@testable import IPTRTPProxyCore

/// `ice=force`: the relay's own host candidates and fresh credentials replace the phone's, the
/// session says `a=ice-lite`, and the relay is told the credentials of the side that reads the
/// SDP. Trickle offers (port 9 at 0.0.0.0) are not hold.
@Suite("ICE force and trickle offers")
struct ICEForceTests {
    /// A browser's offer: one audio media with candidates, rtcp-mux, DTLS.
    func browserOffer(trickle: Bool = false) -> [UInt8] {
        let media = trickle
            ? "m=audio 9 UDP/TLS/RTP/SAVPF 111\nc=IN IP4 0.0.0.0\na=rtcp:9 IN IP4 0.0.0.0\n"
            : "m=audio 49170 UDP/TLS/RTP/SAVPF 111\nc=IN IP4 192.0.2.10\n"
        let candidates = trickle ? "" : "a=candidate:1 1 UDP 2130706431 10.0.1.1 49170 typ host\na=end-of-candidates\n"
        return crlf("v=0\no=- 1 1 IN IP4 192.0.2.10\ns=-\nt=0 0\na=ice-options:trickle\na=group:BUNDLE 0\n"
            + media + "a=mid:0\na=ice-ufrag:F7gI\na=ice-pwd:x9cml/YzichV2+XlhiMu8g\n"
            + "a=fingerprint:sha-256 49:66:12:17:0D:1C:91:AE:57:4C:C6:36:DD:D5:97:D2:7D:62:C9:9A:7F:B9:A3:F4:70:03:EB:1E:BA:D9:16:75\n"
            + "a=setup:actpass\na=rtcp-mux\n" + candidates + "a=rtpmap:111 opus/48000/2")
    }

    func alloc(_ body: [UInt8]) throws -> (FunctionResult, String, RecordingPlane) {
        let plane = RecordingPlane(try testSwitchboards(params: ["name=pub;ice=force"]))
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let result = functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: body,
                                     contentType: "application/sdp", selects: &selects)
        return (result, text(result.body) ?? "", plane)
    }

    @Test("force: the phone's candidates and credentials go, the relay's host candidates on gate B come with ice-lite")
    func forced() throws {
        let (r, out, plane) = try alloc(browserOffer())
        #expect(r.succeeded)
        for gone in ["10.0.1.1", "F7gI", "x9cml", "a=ice-options"] { #expect(!out.contains(gone), "\(gone) left in\n\(out)") }
        guard case .allocate(_, let request) = try #require(plane.calls.first) else { Issue.record("no alloc"); return }
        // Gate B's side reads this offer: the relay is told B's credentials, A's side gets none.
        let ice = try #require(request[.b].ice)
        #expect(request[.a].ice == nil && request[.b].isEmpty)
        #expect(out.contains("a=ice-lite\r\nm=audio 40000 "))
        #expect(out.contains("a=ice-ufrag:\(ice.ufrag)\r\na=ice-pwd:\(ice.password)\r\n"))
        #expect(out.contains("a=candidate:1 1 UDP 2130706431 203.0.113.1 40000 typ host\r\n"))
        #expect(out.contains("a=candidate:1 2 UDP 2130706430 203.0.113.1 40001 typ host\r\n"))
        #expect(out.hasSuffix("a=end-of-candidates\r\n"), "the last line had no ending; ours start on a line of their own")
        for kept in ["a=fingerprint:sha-256", "a=setup:actpass", "a=rtcp-mux", "a=group:BUNDLE 0"] { #expect(out.contains(kept)) }
        #expect(r.edits.map { BodyEdit.apply($0, to: browserOffer()) } == r.body)
        // What the relay is told goes over the control protocol and back unchanged.
        let words = ControlProtocol.encodeFields(request)
        #expect(words.contains("b.ice=\(ice)") && !words.contains { $0.hasPrefix("b.always-learn") })
        #expect(try ControlProtocol.decodeFields(words[...]) == request)
    }

    @Test("each alloc makes new credentials; an update gives the answer's reader (side A) its own")
    func freshPerOfferAndAnswer() throws {
        let a = try alloc(browserOffer()).1, b = try alloc(browserOffer()).1
        #expect(a != b)
        let plane = RecordingPlane(try testSwitchboards(params: ["name=pub;ice=force"]))
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        #expect(functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: browserOffer(), contentType: nil, selects: &selects).succeeded)
        let answer = crlf("v=0\no=- 2 2 IN IP4 198.51.100.7\ns=-\nt=0 0\nm=audio 5004 RTP/AVP 0\nc=IN IP4 198.51.100.7\n")
        let u = functions.update(flags: ScriptFlags(0), sessionIDs: selects.sessionIDs!, body: answer, contentType: nil, selects: &selects)
        #expect(u.succeeded)
        guard case .update(_, _, let request) = try #require(plane.calls.last) else { Issue.record("no update"); return }
        let ice = try #require(request[.a].ice)
        #expect(request[.b].ice == nil)
        let out = text(u.body) ?? ""
        // A phone without ICE answered; the browser on side A still gets the relay's candidates on gate A.
        #expect(out.contains("a=ice-ufrag:\(ice.ufrag)") && out.contains("a=candidate:1 1 UDP 2130706431 10.0.0.1 30000 typ host"))
        #expect(out.contains("a=ice-lite\r\nm=audio 30000 "))
    }

    @Test("a trickle offer (port 9 at 0.0.0.0 with credentials) is not hold: the other side gets the gate's address")
    func trickle() throws {
        let sdp = try SDPParser.parse(browserOffer(trickle: true))
        #expect(sdp.media[0].awaitsCandidates && sdp.media[0].endpoint == nil && sdp.media[0].rtcpEndpoint == nil)
        let (r, out, plane) = try alloc(browserOffer(trickle: true))
        #expect(r.succeeded)
        #expect(out.contains("c=IN IP4 203.0.113.1\r\n") && out.contains("m=audio 40000 ") && out.contains("a=rtcp:40001 IN IP4 203.0.113.1"))
        #expect(!out.contains("0.0.0.0"))
        // The relay is told no address for side A: it learns the phone from its checks or the signalling host.
        guard case .allocate(_, let request) = try #require(plane.calls.first) else { return }
        #expect(request[.a].streams.allSatisfy { $0.address == nil })
        // Under ice=remove (the default) the trickle offer is understood the same way.
        let removed = text(try allocFromA(browserOffer(trickle: true)).0.body) ?? ""
        #expect(removed.contains("c=IN IP4 203.0.113.1") && !removed.contains("a=ice-ufrag") && !removed.contains("0.0.0.0"))
    }

    @Test("hold stays hold: 0.0.0.0 with a real port, or port 9 without ICE credentials")
    func holdIsNotTrickle() throws {
        let hold = crlf("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=audio 49170 RTP/AVP 0\nc=IN IP4 0.0.0.0\na=ice-ufrag:F7gI\n")
        let noICE = crlf("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\nm=audio 9 RTP/AVP 0\nc=IN IP4 0.0.0.0\n")
        for body in [hold, noICE] {
            let sdp = try SDPParser.parse(body)
            #expect(!sdp.media[0].awaitsCandidates && sdp.media[0].endpoint?.address.isUnspecified == true)
            #expect((text(try allocFromA(body).0.body) ?? "").contains("c=IN IP4 0.0.0.0"))
        }
    }

    @Test("two trickle media keep a session each; rtcp-mux-only gets no RTCP candidate")
    func twoTrickleMedia() throws {
        let body = crlf("v=0\no=- 1 1 IN IP4 0.0.0.0\ns=-\nt=0 0\na=ice-ufrag:F7gI\na=ice-pwd:x9cml/YzichV2+XlhiMu8g\nc=IN IP4 0.0.0.0\n"
            + "m=audio 9 RTP/SAVPF 111\na=rtcp-mux-only\nm=video 9 RTP/SAVPF 96\n")
        let (r, out, plane) = try alloc(body)
        #expect(r.succeeded && plane.liveSessions == 2)
        #expect(out.contains("m=audio 40000 ") && out.contains("m=video 40002 "))
        #expect(!out.contains("40001 typ host") && out.contains("a=candidate:1 2 UDP 2130706430 203.0.113.1 40003 typ host"))
        #expect(r.edits.map { BodyEdit.apply($0, to: body) } == r.body)
    }

    @Test("xt cannot force ICE; a relay's info carries force")
    func forceNeedsARelay() throws {
        var sw = try testSwitchboards(params: ["name=pub;ice=force"]).all[0]
        #expect(sw.ice == .force)
        sw.ice = .force
        let info = RelayInfo(relayVersion: "t", uptime: 1, workers: 1, offload: "none", journal: nil,
                             switchboards: [.init(switchboard: sw, sessionsInUse: 0)])
        #expect(try RelayInfo(json: info.json).switchboards[0].switchboard.ice == .force)
    }
}
