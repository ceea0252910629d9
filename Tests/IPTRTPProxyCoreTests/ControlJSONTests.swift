import Testing
@testable import IPTRTPProxyCore

@Suite("control protocol v1: JSON replies")
struct ControlJSONTests {
    @Test("the writer escapes strings and keeps member order")
    func writer() {
        var w = JSONWriter()
        w.object { j in
            j.member("name", "a\"b\\c\nd\u{1}")
            j.member("n", 42)
            j.member("none", nil as String?)
            j.key("list")
            j.array { a in a.value(true); a.value(false); a.null() }
        }
        #expect(w.text == #"{"name":"a\"b\\c\nd\u0001","n":42,"none":null,"list":[true,false,null]}"#)
    }

    @Test("the parser reads what the writer writes, and numbers keep their full 64 bits")
    func parser() throws {
        let v = try JSONParser.parse(#" { "a" : [1, -2.5e3, "x\u00e9\ud83d\ude00", {"b": null}], "big": 18446744073709551615 } "#)
        #expect(v["a"]?.arrayValue?.count == 4)
        #expect(v["a"]?.arrayValue?[2].stringValue == "xé😀")
        #expect(v["big"]?.uint64Value == UInt64.max)
    }

    @Test("malformed JSON is an error, never a crash", arguments: [
        "", "{", "[1,]", "{\"a\"}", "{\"a\":}", "nul", "\"abc", "\"\\ud800\"", "01x", "[1] 2", "{\"a\":1,}",
        String(repeating: "[", count: 200) + String(repeating: "]", count: 200),
    ])
    func malformed(text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(text) }
    }

    func sampleSession() -> SessionSnapshot {
        var c = StreamCounters(packets: 10, bytes: 1720, lastPacket: 1700000100)
        c[.unknownSource] = 3
        let rtp = StreamSnapshot(
            gatePort: 40006, expected: ControlProtocol.parseEndpoint("192.0.2.10:4000"),
            latched: ControlProtocol.parseEndpoint("198.51.100.7:33000"), learning: true, learningLeft: 4,
            offloaded: false, counters: c, signal: IPAddress("198.51.100.7"))
        let rtcp = StreamSnapshot(
            gatePort: 40007, expected: nil, latched: nil, learning: true, learningLeft: nil, offloaded: false,
            counters: StreamCounters())
        let b = StreamSnapshot(
            gatePort: 41006, expected: ControlProtocol.parseEndpoint("[2001:db8::9]:5000"), latched: nil,
            learning: false, learningLeft: nil, offloaded: true, counters: StreamCounters(), held: true)
        return SessionSnapshot(
            switchboard: "pub", handle: SessionHandle(id: 3, created: 1700000000), rtpPorts: [40006, 41006], age: 12, idle: 1,
            sides: [SideSnapshot(side: .a, alwaysLearn: false, streams: [rtp, rtcp]),
                    SideSnapshot(side: .b, alwaysLearn: true, streams: [b, b])])
    }

    @Test("a session listing round-trips through JSON, side counters are the sums of their streams")
    func listing() throws {
        let listing = SessionListing(sessions: [sampleSession()])
        let json = listing.json
        #expect(json.hasPrefix(#"{"sessions":[{"switchboard":"pub","id":3,"created":1700000000,"port-a":40006,"port-b":41006,"#))
        #expect(json.contains(#""counters":{"packets":10,"bytes":1720,"drops":{"unknown-source":3,"#))
        #expect(try SessionListing(json: json) == listing)
        #expect(listing.sessions[0].sides[0].counters.packets == 10)
        #expect(listing.sessions[0].counters[.unknownSource] == 3)
    }

    @Test("info and stats round-trip through JSON")
    func infoAndStats() throws {
        let sw = Switchboard(
            name: "pub", gateA: Gate(address: IPAddress("192.0.2.1")!, basePort: 40000),
            gateB: Gate(address: IPAddress("2001:db8::1")!, basePort: 41000), maxSessions: 100,
            learning: [LearningDefaults(learningTimeout: 10, alwaysLearn: false), LearningDefaults(learningTimeout: nil, alwaysLearn: true)])
        let info = RelayInfo(relayVersion: "1.0.0", uptime: 5, workers: 2, offload: "none", journal: nil,
                             switchboards: [.init(switchboard: sw, sessionsInUse: 3, sessionsKept: 40)])
        #expect(try RelayInfo(json: info.json) == info)
        #expect(info.json.contains(#""gate-b":"[2001:db8::1]:41000""#))
        // An older relay says nothing of kept sockets: 0. A negative count is refused.
        let older = info.json.replacing(#""kept":40,"#, with: "")
        #expect(!older.contains("kept"))
        #expect(try RelayInfo(json: older).switchboards[0].sessionsKept == 0)
        #expect(throws: ControlProtocolError.self) { try RelayInfo(json: info.json.replacing(#""kept":40"#, with: #""kept":-1"#)) }

        var c = StreamCounters(packets: 5, bytes: 500)
        c[.throttled] = 2
        let stats = RelayStatistics(
            uptime: 5, sessionsActive: 1, sessionsAllocated: 4, sessionsDeleted: 2, sessionsExpired: 1, allocationFailures: 0,
            controlRequests: 9, controlErrors: 1, counters: c,
            switchboards: [.init(name: "pub", sessionsActive: 1, counters: c)])
        #expect(try RelayStatistics(json: stats.json) == stats)
    }

    @Test("a reply missing a member names it")
    func missingMember() {
        do {
            _ = try SessionListing(json: #"{"sessions":[{"switchboard":"pub"}]}"#)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("session.sides"))
        }
    }
}
