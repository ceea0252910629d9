import Testing
@testable import IPTRTPProxyCore

/// One call (one alloc or update) may hold at most `max-call-sessions` sessions, so that an SDP
/// with many `m=` lines cannot take a switchboard's ports.
@Suite("the per-call cap on sessions")
struct CallCapTests {
    let roomy = testConfig.replacingOccurrences(of: "max-sess = 4", with: "max-sess = 100")

    /// An offer with `count` audio media on distinct ports of one address.
    func offer(media count: Int, port: (Int) -> Int = { 49170 + 2 * $0 }) -> [UInt8] {
        let media = (0..<count).map { "m=audio \(port($0)) RTP/AVP 0\n" }.joined()
        return crlf("v=0\no=a 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\n" + media)
    }

    @Test("by default 16: an offer needing 16 sessions is served, one needing 17 gets -1, one reason, nothing allocated")
    func defaultCap() throws {
        #expect(Switchboard.defaultMaxCallSessions == 16)
        let plane = RecordingPlane(try testSwitchboards(roomy))
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let refused = functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: offer(media: 17), contentType: nil, selects: &selects)
        #expect(!refused.succeeded && refused.body == nil)
        #expect(refused.error == "alloc: the SDP needs 17 sessions on 'pub', more than the 16 one call may hold (max-call-sessions); nothing allocated")
        #expect(plane.calls.isEmpty && selects.sessionIDs == nil)

        #expect(functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: offer(media: 16), contentType: nil, selects: &selects).succeeded)
        #expect(plane.liveSessions == 16)
    }

    @Test("media sharing an address and port count once, and media the relay does not carry not at all")
    func sharedAndInactive() throws {
        let plane = RecordingPlane(try testSwitchboards(roomy, params: ["name=pub;max-call-sessions=2"]))
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let body = crlf("v=0\no=a 1 1 IN IP4 192.0.2.10\ns=-\nc=IN IP4 192.0.2.10\nt=0 0\n"
            + "m=audio 4000 RTP/AVP 0\nm=audio 4000 RTP/AVP 8\nm=video 4002 RTP/AVP 31\nm=video 0 RTP/AVP 31\nm=application 5060 TCP/BFCP *\n")
        #expect(functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: body, contentType: nil, selects: &selects).succeeded)
        #expect(plane.liveSessions == 2)
    }

    @Test("a re-INVITE that would take the call over the cap: -1, its sessions neither updated, freed nor added to")
    func updateOverCap() throws {
        let plane = RecordingPlane(try testSwitchboards(roomy, params: ["name=pub;max-call-sessions=2"]))
        let functions = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        #expect(functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: offer(media: 2), contentType: nil, selects: &selects).succeeded)
        let ids = try #require(selects.sessionIDs)
        plane.calls = []
        let result = functions.update(flags: ScriptFlags(1), sessionIDs: ids, body: offer(media: 3), contentType: nil, selects: &selects)
        #expect(result.error == "update: the SDP needs 3 sessions on 'pub', more than the 2 one call may hold (max-call-sessions); nothing allocated")
        #expect(plane.calls.isEmpty && plane.liveSessions == 2 && selects.sessionIDs == ids)

        // Within the cap: the re-INVITE swaps a media for another and keeps two sessions.
        let swapped = offer(media: 3) { $0 == 1 ? 0 : 49170 + 2 * $0 }
        #expect(functions.update(flags: ScriptFlags(1), sessionIDs: ids, body: swapped, contentType: nil, selects: &selects).succeeded)
        #expect(plane.liveSessions == 2)
    }

    @Test("the switchboard modparam sets it per switchboard; 0 leaves it; more than the 64 m= lines an SDP may have is an error")
    func modparam() throws {
        #expect(try testSwitchboards(params: ["name=pub;max-call-sessions=4"]).named("pub")?.maxCallSessions == 4)
        #expect(try testSwitchboards(params: ["name=*;max-call-sessions=64", "name=pub;max-call-sessions=0"]).named("pub")?.maxCallSessions == 64)
        #expect(SDPParser.maxMedia == 64)
        #expect(throws: ConfigError(source: "switchboard modparam 'name=pub;max-call-sessions=65'",
                                    "'max-call-sessions' must be sessions, at most 64 (the m= lines an SDP may have), not '65'")) {
            _ = try testSwitchboards(params: ["name=pub;max-call-sessions=65"])
        }
    }
}
