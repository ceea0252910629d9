import Testing
@testable import IPTRTPProxyCore

/// Property tests of the control decoders: any bytes give a request or an error (never a trap),
/// and every request the encoder writes decodes to itself.
@Suite("control protocol v1: decoder properties")
struct ControlFuzzTests {
    /// A small deterministic generator (xorshift), so failures reproduce.
    struct Rng {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
    }

    static let fragments = [
        "iptrtp/1", " ", "1", "x-9", "alloc", "update", "delete", "list", "ping", "info", "stats", "auth", "pub",
        "a.rtp=", "b.rtcp=", "a.always-learn=1", "a.rtp-learning=", "192.0.2.1:4000", "[::1]:5", "[", "]", ":",
        "/", "-", "=", "7/1", "3-4/9", "4294967296", "65536", "\r", "\t", "é", "\u{0}", ".",
    ]

    @Test("random byte strings never trap the request decoder")
    func randomBytes() {
        var rng = Rng(state: 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<20_000 {
            let count = rng.below(80)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? ControlProtocol.decodeRequest(bytes)
            _ = try? ControlProtocol.decodeReply(bytes)
        }
    }

    @Test("random splices of protocol words never trap, and what decodes re-encodes to a decodable line")
    func randomWords() throws {
        var rng = Rng(state: 42)
        var decoded = 0
        for _ in 0..<20_000 {
            let line = (0..<rng.below(12)).map { _ in rng.pick(Self.fragments) }.joined()
            guard let request = try? ControlProtocol.decodeRequest(Array(line.utf8)) else { continue }
            decoded += 1
            let again = try ControlProtocol.decodeRequest(Array(ControlProtocol.encode(request).utf8))
            #expect(again == request, "line \(line)")
        }
        #expect(decoded >= 0)
    }

    @Test("random requests round-trip exactly")
    func roundTrip() throws {
        var rng = Rng(state: 7)
        let addresses = ["192.0.2.1", "10.0.0.254", "2001:db8::1", "::ffff:192.0.2.9", "fe80::1"]
        for _ in 0..<2_000 {
            var request = SessionRequest()
            for side in GateSide.allCases where rng.below(3) != 0 {
                request[side].alwaysLearn = rng.below(2) == 0
                for j in 0..<2 {
                    if rng.below(2) == 0 {
                        request[side].streams[j].address = Endpoint(
                            address: IPAddress(rng.pick(addresses))!, port: UInt16(truncatingIfNeeded: rng.next()))
                    }
                    if rng.below(2) == 0 { request[side].streams[j].learningTimeout = UInt32(truncatingIfNeeded: rng.next()) }
                }
            }
            let command: ControlCommand = rng.below(2) == 0
                ? .alloc(switchboard: "sw\(rng.below(100))", request: request)
                : .update(switchboard: "sw", session: SessionHandle(id: rng.below(65536), created: UInt32(truncatingIfNeeded: rng.next())), request: request)
            let r = ControlRequest(id: "r\(rng.below(1_000_000))", command: command)
            let decoded = try ControlProtocol.decodeRequest(Array(ControlProtocol.encode(r).utf8))
            // A side whose request says nothing decodes as "says nothing" (always-learn false).
            var expected = r
            if case .alloc(let s, var q) = command {
                for side in GateSide.allCases where q[side].isEmpty { q[side] = SourceRequest() }
                expected.command = .alloc(switchboard: s, request: q)
            }
            if case .update(let s, let h, var q) = command {
                for side in GateSide.allCases where q[side].isEmpty { q[side] = SourceRequest() }
                expected.command = .update(switchboard: s, session: h, request: q)
            }
            #expect(decoded == expected)
        }
    }

    @Test("random text never traps the JSON parser")
    func randomJSON() {
        var rng = Rng(state: 99)
        let pieces = ["{", "}", "[", "]", ",", ":", "\"", "\\", "u", "d800", "1", "-", ".", "e", "true", "null", " ", "a"]
        for _ in 0..<20_000 {
            let text = (0..<rng.below(30)).map { _ in rng.pick(pieces) }.joined()
            _ = try? JSONParser.parse(text)
        }
    }
}
