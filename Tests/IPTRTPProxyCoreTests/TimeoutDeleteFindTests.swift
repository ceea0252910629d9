import Testing
@testable import IPTRTPProxyCore

@Suite("iptrtpproxy_adjust_timeout, _delete and _find")
struct TimeoutDeleteFindTests {
    func setUp(_ params: [String] = []) throws -> (ScriptFunctions, RecordingPlane) {
        let set = try testSwitchboards(params: params)
        let plane = RecordingPlane(set)
        return (ScriptFunctions(switchboards: set, plane: plane), plane)
    }

    func allocate(_ f: ScriptFunctions, media: Int) -> String {
        var selects = SelectValues()
        let body = crlf("v=0\nc=IN IP4 192.0.2.1\n" + (0..<media).map { "m=audio \(4000 + 2 * $0) RTP/AVP 0\n" }.joined())
        _ = f.alloc(flags: ScriptFlags(1), switchboard: "pub", body: body, contentType: nil, selects: &selects)
        return selects.sessionIDs!
    }

    @Test("adjust_timeout sets the side's default learning timeout without touching addresses")
    func adjust() throws {
        let (f, plane) = try setUp(["name=pub;learning-timeout-a=10;ringing-timeout=90"])
        let ids = allocate(f, media: 2)
        plane.calls = []
        var selects = SelectValues()
        #expect(f.adjustTimeout(flags: ScriptFlags(1), sessionIDs: ids, selects: &selects) == .success())
        var expected = SessionRequest()
        expected[.a].streams = [StreamRequest(learningTimeout: 10), StreamRequest(learningTimeout: 10)]
        #expect(plane.calls == [.update("pub", SessionHandle(id: 0, created: 1000), expected),
                                .update("pub", SessionHandle(id: 1, created: 1000), expected)])
        #expect(selects.sessionIDs == nil)
    }

    @Test("adjust_timeout with bit 1 sets the ringing timeout; an unknown session fails")
    func adjustRinging() throws {
        let (f, plane) = try setUp(["name=pub;ringing-timeout=90"])
        _ = allocate(f, media: 1)
        plane.calls = []
        var selects = SelectValues()
        #expect(f.adjustTimeout(flags: ScriptFlags(3), sessionIDs: "pub:0/1000", selects: &selects).succeeded)
        guard case .update(_, _, let r) = plane.calls.first else { Issue.record("no update"); return }
        #expect(r[.a].streams.map(\.learningTimeout) == [90, 90])
        #expect(!f.adjustTimeout(flags: ScriptFlags(1), sessionIDs: "pub:3/1000", selects: &selects).succeeded)
    }

    @Test("delete groups consecutive ids into ranges with the first id's stamp")
    func deleteRanges() throws {
        let (f, plane) = try setUp()
        _ = allocate(f, media: 4)
        plane.calls = []
        var selects = SelectValues()
        let result = f.delete(sessionIDs: "pub:0/1000,1/1000,,3/1000,0/1000", selects: &selects)
        #expect(result == .success())
        #expect(plane.calls == [.delete("pub", 0...1, 1000), .delete("pub", 3...3, 1000)])
        #expect(plane.liveSessions == 1)
    }

    @Test("deleting unknown sessions succeeds with a warning; an unreadable list fails")
    func deleteUnknown() throws {
        let (f, _) = try setUp()
        var selects = SelectValues()
        let result = f.delete(sessionIDs: "pub:2/5", selects: &selects)
        #expect(result.succeeded)
        #expect(result.warnings == ["delete pub:2-2: switchboard 'pub': no session 2/5"])
        #expect(f.delete(sessionIDs: "pub:x", selects: &selects).error == "delete: session ids 'pub:x': entry 'x' is not id/created")
        #expect(f.delete(sessionIDs: "nope:1/1", selects: &selects).error == "delete: unknown switchboard 'nope' in session ids 'nope:1/1'")
    }

    @Test("find matches either orientation; the last declared switchboard wins; no match clears")
    func find() throws {
        let set = try SwitchboardConfigParser.parse("""
            [switchboard:first]
            addr-a = 10.0.0.1
            addr-b = 10.0.0.2
            port-a = 30000
            [switchboard:second]
            addr-a = 10.0.0.1
            addr-b = 10.0.0.2
            port-a = 32000
            """, fileName: "f")
        let f = ScriptFunctions(switchboards: set, plane: RecordingPlane(set))
        var selects = SelectValues()
        #expect(f.find(gateA: "10.0.0.1", gateB: "10.0.0.2", selects: &selects).succeeded)
        #expect(selects.switchboard == "second" && selects.direction == 1)
        #expect(f.find(gateA: "10.0.0.2:5060", gateB: "10.0.0.1:5080", selects: &selects).succeeded)
        #expect(selects.direction == 0)
        #expect(!f.find(gateA: "10.0.0.1", gateB: "not-an-ip", selects: &selects).succeeded)
        #expect(selects.switchboard == nil && selects.direction == nil)
    }
}
