import Testing
@testable import IPTRTPProxyCore

/// Malformed bodies that real traffic and fuzzing produce. Each must give a clear -1 (or a
/// harmless success with nothing allocated), never a crash, and leave nothing allocated.
let malformedBodies: [String] = [
    "", "\r\n", "v=", "v=0", "garbage", "c=IN IP4 1.2.3.4\r\n", "m=audio 1 RTP/AVP 0\r\n",
    "v=0\r\nv=0\r\n", "v=0\r\nm=audio\r\n", "v=0\r\nm=audio 99999 RTP/AVP 0\r\n", "v=0\r\nm= 1 2\r\n",
    "v=0\r\nc=IN\r\nm=audio 4000 RTP/AVP 0\r\n", "v=0\r\nc=IN IP4\r\nm=audio 4000 RTP/AVP 0\r\n",
    "v=0\r\nc=IN IP9 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\n", "v=0\r\nc=IN IP4 1.2.3.4/12\r\nm=audio 4000 RTP/AVP 0\r\n",
    "v=0\r\nc=IN IP6 ::::\r\nm=audio 4000 RTP/AVP 0\r\n", "v=0\r\nm=audio -1 RTP/AVP 0\r\n",
    "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000/ RTP/AVP 0\r\n", "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio /2 RTP/AVP 0\r\n",
    "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:\r\na=rtcp:x\r\na=rtcp:70000\r\n",
    "v=0\r\n\u{0}\u{0}\r\nm=audio 4000 RTP/AVP 0\r\n", "v=0\r\r\r\n\n\nc=IN IP4 1.2.3.4\rm=audio 4000 RTP/AVP 0",
    String(repeating: "v=0\r\n", count: 1) + String(repeating: "a=x\r\n", count: 5000),
]

@Suite("Malformed SDP never crashes and leaves nothing allocated")
struct MalformedInputTests {
    @Test("every corpus entry gives a clean result", arguments: malformedBodies)
    func corpus(body: String) throws {
        let plane = RecordingPlane(try testSwitchboards())
        let f = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let result = f.alloc(flags: ScriptFlags(1), switchboard: "pub", body: Array(body.utf8), contentType: "application/sdp", selects: &selects)
        if result.succeeded {
            // Parsable after all: the output must parse too.
            _ = try SDPParser.parse(result.body ?? Array(body.utf8))
        } else {
            #expect(result.body == nil)
            #expect(result.error?.isEmpty == false)
            #expect(plane.liveSessions == 0)
        }
        let update = f.update(flags: ScriptFlags(0), sessionIDs: "pub:0/1000", body: Array(body.utf8), contentType: "application/sdp", selects: &selects)
        if !update.succeeded { #expect(update.body == nil) }
    }

    @Test("random bytes never crash the parser; what it rewrites parses again, non-relayed media keeping their address")
    func randomBytes() throws {
        var rng = SeededRandom(state: 42)
        let alphabet = Array("v=cmaiIN IP4 6 0123456789./:RTP/AVPTCP\r\n \t".utf8) + [0, 0xff]
        for _ in 0..<3000 {
            let n = Int.random(in: 0..<200, using: &rng)
            let bytes = (0..<n).map { _ in alphabet.randomElement(using: &rng)! }
            if let sdp = try? SDPParser.parse(bytes) {
                let targets = sdp.media.map { $0.isActive ? MediaTarget(address: .v4(1), rtpPort: 2) : nil }
                let again = try SDPParser.parse(SDPRewriter.rewrite(sdp, targets: targets).bytes)
                #expect(again.media.count == sdp.media.count)
                let sessionRewritten = sdp.media.contains { $0.isActive && $0.inheritsSessionConnection }
                    && sdp.sessionConnection?.address?.isUnspecified != true
                for (before, after) in zip(sdp.media, again.media) where !before.isActive && before.inheritsSessionConnection {
                    #expect(after.inheritsSessionConnection != sessionRewritten)
                    if sessionRewritten { #expect(after.ownConnection?.addressText == sdp.sessionConnection?.addressText) }
                }
            }
        }
    }
}
