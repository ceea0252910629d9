import IPTRTPProxyCore
import TestSupport
import Testing
@testable import RTPRelay
@testable import RelayRedisStore

/// The layout of sessions in Redis, and the reader that decides whether an entry read back is trusted.
@Suite("RedisSessionCodec")
struct RedisSessionCodecTests {
    let sw = switchboard("pub", a: "192.0.2.10", b: "198.51.100.10", port: 40000, maxSessions: 100)
    let h = SessionHandle(id: 7, created: 1_795_780_026)

    /// Session 7 with both sides requested (learning windows, always-learn, a signal address) and three latches.
    var live: JournalState.Live {
        var r = request("203.0.113.5", 31000, "2001:db8::5", 32000, learning: 12)
        r[.a].alwaysLearn = true
        r[.b].signal = IPAddress("2001:db8::99")
        r[.b].streams[1].learningTimeout = nil
        var l = JournalState.Live(session: h, request: r)
        l.latches[0][0] = Endpoint(address: IPAddress("203.0.113.5")!, port: 31000)
        l.latches[0][1] = Endpoint(address: IPAddress("203.0.113.6")!, port: 40001)
        l.latches[1][0] = Endpoint(address: IPAddress("2001:db8::5")!, port: 32000)
        return l
    }

    func read(_ field: String, _ value: String, on sw: Switchboard? = nil) -> Result<[JournalRecord], RedisSessionCodec.SkippedEntry> {
        RedisSessionCodec.records(field: Array(field.utf8), value: Array(value.utf8), switchboard: sw ?? self.sw)
    }

    @Test("the key names the switchboard's gates, IPv4 and IPv6, not its name")
    func keys() {
        #expect(RedisSessionCodec.key(sw) == "iptrtpproxy:sessions:A=192.0.2.10:40000;B=198.51.100.10:40000")
        #expect(RedisSessionCodec.key(switchboard("other", a: "192.0.2.10", b: "198.51.100.10", port: 40000)) == RedisSessionCodec.key(sw))
        let v6 = Switchboard(
            name: "v6", gateA: Gate(address: IPAddress("2001:db8::1")!, basePort: 20000),
            gateB: Gate(address: IPAddress("2001:db8:0:0::2")!, basePort: 50000))
        #expect(RedisSessionCodec.key(v6) == "iptrtpproxy:sessions:A=[2001:db8::1]:20000;B=[2001:db8::2]:50000")
        let mixed = Switchboard(
            name: "mixed", gateA: Gate(address: IPAddress("192.0.2.1")!, basePort: 20000),
            gateB: Gate(address: IPAddress("2001:db8::2")!, basePort: 20000))
        #expect(RedisSessionCodec.key(mixed) == "iptrtpproxy:sessions:A=192.0.2.1:20000;B=[2001:db8::2]:20000")
        // Another port is another switchboard.
        #expect(RedisSessionCodec.key(switchboard(a: "192.0.2.10", b: "198.51.100.10", port: 40002)) != RedisSessionCodec.key(sw))
    }

    @Test("a live session with request fields and latches reads back the same, under this relay's name for the switchboard")
    func roundTrip() throws {
        let value = RedisSessionCodec.value(live, switchboard: "elsewhere")
        let lines = value.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines[0].hasPrefix("A elsewhere 7 1795780026 "))
        #expect(lines[1] == "L elsewhere 7 1795780026 a 0 203.0.113.5:31000")
        #expect(lines[3] == "L elsewhere 7 1795780026 b 0 [2001:db8::5]:32000")
        let records = try read("7", value).get()
        #expect(records.allSatisfy { $0.switchboard == "pub" && $0.session == h })
        let state = JournalState(replaying: records)
        #expect(state.live["pub"]?[7] == live)
        #expect(state.live.values.map(\.count).reduce(0, +) == 1)

        // No latch: the allocation alone.
        let bare = JournalState.Live(session: SessionHandle(id: 0, created: 1), request: SessionRequest())
        let only = try read("0", RedisSessionCodec.value(bare, switchboard: "pub")).get()
        #expect(only == [.allocated(switchboard: "pub", session: bare.session, request: SessionRequest())])
    }

    @Test("the field must be a session id of the switchboard", arguments: [
        "", "x", "7a", "a7", " 7", "7 ", "-1", "100", "99999", "123456", "7\u{0}", "0x7", "1e2", "٧",
    ])
    func badField(field: String) {
        let value = RedisSessionCodec.value(live, switchboard: "pub")
        guard case .failure(let why) = read(field, value) else {
            Issue.record("field '\(field)' was accepted")
            return
        }
        #expect(why.description.contains("not a session id"), "\(why)")
    }

    @Test("the field is the id's own decimal text: no sign, no leading zero", arguments: ["+7", "07", "007", "-0", "+0", "00"])
    func nonCanonicalField(field: String) {
        let id = Int(field)!
        var l = live
        l.session = SessionHandle(id: id, created: 1_795_780_026)
        l.latches = [[nil, nil], [nil, nil]]
        let value = RedisSessionCodec.value(l, switchboard: "pub")
        #expect(throws: RedisSessionCodec.SkippedEntry.self) { try read(field, value).get() }
        // ... while the canonical field is read.
        #expect(throws: Never.self) { try read(String(id), value).get() }
    }

    @Test("the value must hold this session: its allocation first, then its own latches only")
    func wrongSession() {
        let value = RedisSessionCodec.value(live, switchboard: "pub")
        let cases: [(String, String, String)] = [
            // field and record disagree
            ("8", value, "not its allocation"),
            // a latch of another id, or of another incarnation of this slot
            ("7", value + "\nL pub 8 1795780026 a 0 192.0.2.50:4000", "not a latch of it"),
            ("7", value + "\nL pub 7 1795780000 a 0 192.0.2.50:4000", "not a latch of it"),
            // another record kind after the allocation
            ("7", value + "\nA pub 7 1795780026", "not a latch of it"),
            ("7", value + "\nD pub 7 1795780026 1795780100", "not a latch of it"),
            ("7", value + "\nU pub 7 1795780026 a.rtp=192.0.2.1:4000", "not a latch of it"),
            ("7", value + "\ngarbage", "not a latch of it"),
            // the first line is not an allocation
            ("7", "L pub 7 1795780026 a 0 192.0.2.50:4000", "not its allocation"),
            ("7", "U pub 7 1795780026 a.rtp=192.0.2.1:4000", "not its allocation"),
            ("7", "A pub 7 1795780026 a.rtp=bad", "not its allocation"),
            ("7", "A pub 7 17957800260000", "not its allocation"),
            // empty
            ("7", "", "not its allocation"),
            ("7", "\n\n", "not its allocation"),
        ]
        for (field, v, reason) in cases {
            switch read(field, v) {
            case .success(let records): Issue.record("accepted field \(field) value \(v.debugDescription): \(records)")
            case .failure(let why): #expect(why.description.contains(reason), "\(v.debugDescription): \(why)")
            }
        }
    }

    @Test("the value must be short record text: no control bytes, no non-ASCII, at most 4096 bytes")
    func notText() {
        let value = Array(RedisSessionCodec.value(live, switchboard: "pub").utf8)
        let bad: [[UInt8]] = [
            value + [0], value + Array("\r".utf8), Array("é".utf8) + value, value + [0xFF], value + [0x7F], value + [9],
            value + [UInt8](repeating: 0x20, count: 4097 - value.count),
            [UInt8](repeating: UInt8(ascii: "A"), count: 1 << 20),
        ]
        for v in bad {
            guard case .failure(let why) = RedisSessionCodec.records(field: Array("7".utf8), value: v, switchboard: sw) else {
                Issue.record("accepted a value of \(v.count) bytes")
                continue
            }
            #expect(why.description.contains("not a record text"), "\(why)")
        }
        // Exactly 4096 bytes of record text is still read (trailing spaces separate no word).
        let padded = value + [UInt8](repeating: 0x20, count: 4096 - value.count)
        #expect(throws: Never.self) { try RedisSessionCodec.records(field: Array("7".utf8), value: padded, switchboard: sw).get() }
    }

    @Test("the longest value the writer can produce (20-character name, long IPv6 everywhere, 4 latches) is still read")
    func longestValue() throws {
        let name = String(repeating: "n", count: SwitchboardConfigParser.maxNameLength)
        let big = switchboard(name, a: "192.0.2.10", b: "198.51.100.10", port: 1, maxSessions: 32767)
        let v6 = "1111:2222:3333:4444:5555:6666:7777:8888"
        var r = request(v6, 65534, v6, 65534, learning: UInt32.max)
        for side in GateSide.allCases {
            r[side].alwaysLearn = true
            r[side].signal = IPAddress(v6)
        }
        var l = JournalState.Live(session: SessionHandle(id: 32766, created: UInt32.max), request: r)
        l.latches = [[Endpoint(address: IPAddress(v6)!, port: 65535), Endpoint(address: IPAddress(v6)!, port: 65535)],
                     [Endpoint(address: IPAddress(v6)!, port: 65535), Endpoint(address: IPAddress(v6)!, port: 65535)]]
        let value = RedisSessionCodec.value(l, switchboard: name)
        #expect(value.utf8.count < 4096 / 2, "\(value.utf8.count) bytes")
        let records = try RedisSessionCodec.records(field: Array("32766".utf8), value: Array(value.utf8), switchboard: big).get()
        #expect(JournalState(replaying: records).live[name]?[32766] == l)
    }

    @Test("random bytes as field and value never trap and never give records of another id (seeded, 5000 inputs)")
    func randomInputs() {
        var rng = SeededRandom(state: 0x1D5E_5510_4E57_0001)
        let valid = Array(RedisSessionCodec.value(live, switchboard: "pub").utf8)
        let alphabet = Array("0123456789 \nALUDab.-:=[]pubrtcplearnsignalalways7".utf8)
        var accepted = 0
        for round in 0..<5000 {
            let field: [UInt8]
            switch rng.below(5) {
            case 0: field = rng.bytes(count: rng.below(8))
            case 1: field = Array(String(rng.below(120)).utf8)
            case 2: field = Array("7".utf8)
            case 3: field = Array((["0", "+", "00", " ", "-"][rng.below(5)] + "7").utf8)
            default: field = (0..<rng.below(6)).map { _ in UInt8(ascii: "0") + UInt8(rng.below(10)) }
            }
            var value: [UInt8]
            switch rng.below(4) {
            case 0:
                value = rng.bytes(count: rng.below(300))
            case 1:
                value = (0..<rng.below(300)).map { _ in alphabet[rng.below(alphabet.count)] }
            default:
                // The valid value with a few bytes changed, cut, or a line of another session added.
                value = valid
                for _ in 0..<rng.below(4) {
                    switch rng.below(4) {
                    case 0: if !value.isEmpty { value[rng.below(value.count)] = alphabet[rng.below(alphabet.count)] }
                    case 1: value = Array(value.prefix(rng.below(value.count + 1)))
                    case 2: value += Array("\nL pub \(rng.below(120)) 1795780026 a \(rng.below(2)) 192.0.2.1:\(rng.below(70000))".utf8)
                    default: if !value.isEmpty { value[rng.below(value.count)] = UInt8(rng.below(256)) }
                    }
                }
            }
            switch RedisSessionCodec.records(field: field, value: value, switchboard: sw) {
            case .failure(let why):
                #expect(!why.description.isEmpty)
            case .success(let records):
                accepted += 1
                let id = String(decoding: field, as: UTF8.self)
                guard let first = records.first, case .allocated = first else {
                    Issue.record("round \(round): records do not start with an allocation: \(records)")
                    continue
                }
                for r in records {
                    if String(r.session.id) != id || r.session != first.session || r.switchboard != "pub" {
                        Issue.record("round \(round): field \(id.debugDescription) gave \(r)")
                    }
                    if case .latched = r {} else if r != first { Issue.record("round \(round): not a latch: \(r)") }
                }
                #expect(r_idInRange(first.session.id))
            }
        }
        // The generator is not so wild that nothing valid ever comes through.
        #expect(accepted > 100, "only \(accepted) accepted")
    }

    private func r_idInRange(_ id: Int) -> Bool { id >= 0 && id < sw.maxSessions }
}
