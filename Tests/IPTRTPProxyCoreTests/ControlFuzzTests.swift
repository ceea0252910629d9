import Testing
@testable import IPTRTPProxyCore

/// Property tests of the control decoders. The contract every line must meet, whatever its bytes:
/// the request decoder either returns a request whose canonical line (`encode`) decodes to the
/// same request, or throws a `ControlProtocolError` with a message and with the id the line
/// carries when, and only when, the line got as far as a valid id (so that the error reply can
/// carry it). The id a line carries is worked out here from the grammar, independently of the
/// decoder. Lines come from known-good requests, their mutations and generated requests; each
/// test also counts both outcomes, so that a generator which stopped producing one of them fails.
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

    // MARK: The contract

    static let idBytes = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-".utf8)

    /// The id the grammar says a line carries (docs/control-protocol.md, Framing), or nil when the
    /// line is refused before its id can be trusted: too long, not printable ASCII once a final CR
    /// is dropped, not `iptrtp/2` as its first word, or an id not of 1-32 of `A-Z a-z 0-9 . _ -`.
    static func expectedID(_ line: [UInt8]) -> String? {
        guard line.count <= 4096 else { return nil }
        let body = line.last == 13 ? line.dropLast() : line[...]
        guard body.allSatisfy({ $0 >= 0x20 && $0 <= 0x7e }) else { return nil }
        let words = body.split(separator: 32, maxSplits: 2, omittingEmptySubsequences: false)
        guard words.count >= 2, Array(words[0]) == Array("iptrtp/2".utf8) else { return nil }
        let id = words[1]
        guard (1...32).contains(id.count), id.allSatisfy(idBytes.contains) else { return nil }
        return String(decoding: id, as: UTF8.self)
    }

    enum Outcome: Equatable {
        case decoded(ControlRequest)
        case refused(ControlProtocolError)
    }

    /// Decodes `line` and records an issue for every part of the contract it breaks.
    @discardableResult
    static func checkContract(_ line: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Outcome {
        let shown = String(decoding: line.prefix(200), as: UTF8.self).debugDescription
        let expected = expectedID(line)
        let outcome: Outcome
        do {
            outcome = .decoded(try ControlProtocol.decodeRequest(line))
        } catch let error as ControlProtocolError {
            outcome = .refused(error)
        } catch {
            Issue.record("line \(shown): threw \(error), not a ControlProtocolError", sourceLocation: sourceLocation)
            return .refused(ControlProtocolError(id: nil, "\(error)"))
        }
        switch outcome {
        case .refused(let error):
            #expect(!error.message.isEmpty, "line \(shown): an error without a message", sourceLocation: sourceLocation)
            #expect(error.id == expected, "line \(shown): error id \(String(describing: error.id)), the line carries \(String(describing: expected))",
                    sourceLocation: sourceLocation)
        case .decoded(let request):
            #expect(expected != nil && request.id == expected,
                    "line \(shown): decoded with id \(request.id), the line carries \(String(describing: expected))",
                    sourceLocation: sourceLocation)
            let body = line.last == 13 ? Array(line.dropLast()) : line
            let hasEmptyWord = body.split(separator: 32, omittingEmptySubsequences: false).contains { $0.isEmpty }
            #expect(!hasEmptyWord,
                    "line \(shown): decoded although a word is empty (words are separated by single spaces)",
                    sourceLocation: sourceLocation)
            let verbWord = body.split(separator: 32).dropFirst(2).first.map { Array($0) }
            #expect(verbWord == Array(request.command.verb.utf8),
                    "line \(shown): decoded as \(request.command.verb)", sourceLocation: sourceLocation)
            let canonical = ControlProtocol.encode(request)
            do {
                let again = try ControlProtocol.decodeRequest(Array(canonical.utf8))
                #expect(again == request, "line \(shown): its canonical line \(canonical) decodes to \(again)",
                        sourceLocation: sourceLocation)
                #expect(ControlProtocol.encode(again) == canonical, "line \(shown): canonical line not stable",
                        sourceLocation: sourceLocation)
            } catch {
                Issue.record("line \(shown): its canonical line \(canonical) is refused: \(error)", sourceLocation: sourceLocation)
            }
        }
        return outcome
    }

    // MARK: Known-good requests

    /// Canonical lines (as `encode` writes them): the examples of docs/control-protocol.md and
    /// one of every command.
    static let goodLines = [
        "iptrtp/2 1 alloc pub a.always-learn=0 a.rtp=192.0.2.10:4000 a.rtp-learning=90 a.rtcp=192.0.2.10:4001 a.rtcp-learning=90",
        "iptrtp/2 2 update pub 7/1700000000 b.always-learn=0 b.rtp=198.51.100.5:5000 b.rtcp=198.51.100.5:5001",
        "iptrtp/2 2 update pub 7/1700000000 b.always-learn=0 b.signal=203.0.113.7 b.rtp=198.51.100.5:5000 b.rtcp=198.51.100.5:5001",
        "iptrtp/2 4 alloc pub a.always-learn=0 a.signal=2001:db8::9 a.rtp=[2001:db8::5]:5000",
        "iptrtp/2 3 update pub 7/1700000000 a.always-learn=0 a.rtp-learning=10 a.rtcp-learning=10",
        "iptrtp/2 u-1 update Pub_2 12/1700000000 b.always-learn=1 b.rtp=[2001:db8::5]:5000 b.rtcp=[2001:db8::5]:5001",
        "iptrtp/2 r.7 alloc sw-1",
        "iptrtp/2 x_ alloc s a.always-learn=1 b.always-learn=0 b.rtp=10.0.0.1:1 b.rtcp-learning=4294967295",
        "iptrtp/2 9 delete pub 3-5/77",
        "iptrtp/2 9 delete pub 3/77",
        "iptrtp/2 9 delete SwitchboardNameOf_20 0-65535/0",
        "iptrtp/2 1 ping",
        "iptrtp/2 1 info",
        "iptrtp/2 1 stats",
        "iptrtp/2 1 list",
        "iptrtp/2 1 list pub",
        "iptrtp/2 \(String(repeating: "i", count: 32)) auth \(String(repeating: "ab", count: 32)) \(String(repeating: "0f", count: 32))",
    ]

    @Test("every known-good request decodes, and encodes back to exactly its line")
    func knownGood() throws {
        var verbs = Set<String>()
        for line in Self.goodLines {
            guard case .decoded(let request) = Self.checkContract(Array(line.utf8)) else {
                Issue.record("known-good line refused: \(line)")
                continue
            }
            #expect(ControlProtocol.encode(request) == line)
            verbs.insert(request.command.verb)
        }
        #expect(verbs == ["ping", "auth", "info", "list", "stats", "alloc", "update", "delete"])
    }

    @Test("spellings that differ from the canonical line decode to the same request", arguments: [
        ("iptrtp/2 1 ping\r", "iptrtp/2 1 ping"),
        ("iptrtp/2 1 alloc pub a.rtcp-learning=90 a.rtp=192.0.2.10:4000 a.rtcp=192.0.2.10:4001 a.rtp-learning=90 a.always-learn=0",
         "iptrtp/2 1 alloc pub a.always-learn=0 a.rtp=192.0.2.10:4000 a.rtp-learning=90 a.rtcp=192.0.2.10:4001 a.rtcp-learning=90"),
        ("iptrtp/2 1 alloc pub a.rtp-learning=007", "iptrtp/2 1 alloc pub a.always-learn=0 a.rtp-learning=7"),
        ("iptrtp/2 1 alloc pub a.always-learn=0", "iptrtp/2 1 alloc pub"),
        ("iptrtp/2 2 update pub 007/01 b.rtp=[2001:DB8:0::5]:05000", "iptrtp/2 2 update pub 7/1 b.always-learn=0 b.rtp=[2001:db8::5]:5000"),
        ("iptrtp/2 9 delete pub 3-3/77", "iptrtp/2 9 delete pub 3/77"),
    ])
    func equivalentSpellings(line: String, canonical: String) throws {
        let request = try ControlProtocol.decodeRequest(Array(line.utf8))
        #expect(request == (try ControlProtocol.decodeRequest(Array(canonical.utf8))))
        #expect(ControlProtocol.encode(request) == canonical)
    }

    // MARK: Mutations of known-good requests

    static let mutationBytes: [UInt8] = Array(" x09/-.=:[]".utf8) + [13, 9, 10, 0, 0x7f, 0xff]

    @Test("every one-byte mutation of a known-good request meets the contract")
    func byteMutations() {
        var decoded = 0, refused = 0
        func run(_ line: [UInt8]) {
            switch Self.checkContract(line) {
            case .decoded: decoded += 1
            case .refused: refused += 1
            }
        }
        for good in Self.goodLines {
            let line = Array(good.utf8)
            for i in line.indices {
                var deleted = line; deleted.remove(at: i); run(deleted)
                for b in Self.mutationBytes {
                    var replaced = line; replaced[i] = b; run(replaced)
                    var inserted = line; inserted.insert(b, at: i); run(inserted)
                }
            }
        }
        // Both outcomes occur (a digit for a digit still decodes; a byte in `iptrtp/2` never does).
        #expect(decoded > 1_000, "\(decoded) mutants decoded")
        #expect(refused > 10_000, "\(refused) mutants refused")
    }

    @Test("a second space anywhere in a known-good request makes it an error")
    func doubledSpaces() {
        for good in Self.goodLines {
            let line = Array(good.utf8)
            for i in line.indices where line[i] == 32 {
                var doubled = line; doubled.insert(32, at: i)
                guard case .refused = Self.checkContract(doubled) else {
                    Issue.record("decoded with two spaces at \(i): \(good)")
                    continue
                }
            }
        }
    }

    @Test("fields of alloc and update may come in any order, each may be left out, none may repeat")
    func fieldMutations() throws {
        for good in Self.goodLines {
            let words = good.split(separator: " ").map(String.init)
            let request = try ControlProtocol.decodeRequest(Array(good.utf8))
            let fieldIndices: [Int]
            switch request.command {
            case .alloc: fieldIndices = Array(words.indices.dropFirst(4))
            case .update: fieldIndices = Array(words.indices.dropFirst(5))
            default: continue
            }
            func line(_ w: [String]) -> [UInt8] { Array(w.joined(separator: " ").utf8) }
            for i in fieldIndices {
                var repeated = words; repeated.insert(words[i], at: i + 1)
                if case .refused(let error) = Self.checkContract(line(repeated)) {
                    #expect(error.message.contains("given twice"), "\(error.message)")
                } else {
                    Issue.record("decoded with \(words[i]) twice: \(good)")
                }
                var dropped = words; dropped.remove(at: i)
                if case .decoded(let less) = Self.checkContract(line(dropped)) {
                    #expect(less != request || words[i].hasSuffix("always-learn=0"), "leaving out \(words[i]) changed nothing")
                } else {
                    Issue.record("refused without \(words[i]): \(good)")
                }
                for j in fieldIndices where j > i {
                    var swapped = words; swapped.swapAt(i, j)
                    #expect(Self.checkContract(line(swapped)) == .decoded(request), "swapping \(words[i]) and \(words[j])")
                }
            }
        }
    }

    @Test("a final CR changes nothing; anything longer than 4096 bytes is refused")
    func crAndLength() {
        for good in Self.goodLines {
            let line = Array(good.utf8)
            #expect(Self.checkContract(line + [13]) == Self.checkContract(line))
            let padded = line + Array(repeating: UInt8(ascii: "x"), count: 4096 - line.count)
            let tooLong = padded + [UInt8(ascii: "x")]
            guard case .refused(let error) = Self.checkContract(tooLong) else {
                Issue.record("a line of 4097 bytes decoded: \(good)")
                continue
            }
            #expect(error.message.contains("longer than 4096"), "\(error.message)")
        }
    }

    // MARK: Generated requests

    static let idWords = ["1", "x-9", "r.2_", String(repeating: "i", count: 32), String(repeating: "i", count: 33), "bad!", ""]
    static let verbWords = ["ping", "auth", "info", "list", "stats", "alloc", "update", "delete", "fly", "PING", ""]
    static let names = ["pub", "Pub_2", "sw-1", String(repeating: "s", count: 20), String(repeating: "s", count: 21), "no/such", ""]
    static let handles = [
        "7/1700000000", "0/0", "65535/4294967295", "3-5/77", "65536/1", "9-3/1", "7", "x/1", "1/4294967296", "-1/2", "1-/2",
    ]
    static let fields = [
        "a.rtp=192.0.2.1:4000", "b.rtcp=[2001:db8::1]:5", "a.rtp-learning=90", "b.rtcp-learning=0", "a.always-learn=1",
        "b.always-learn=0", "a.rtcp=10.0.0.1:65535", "a.rtp=1.2.3.4", "a.rtp=[1.2.3.4]:5", "c.rtp=1.2.3.4:5", "a.colour=red",
        "a.rtp=::1:5", "a.signal=192.0.2.9", "b.signal=2001:db8::2", "a.signal=192.0.2.9:5", "b.signal=host", "a.rtp-learning=-1", "a.always-learn=yes", "a.rtp=1.2.3.4:70000", "=", "a.",
    ]
    static let otherWords = ["s3cr3t", "", "é", "\t", "extra"]

    /// `iptrtp/2 ID VERB ARG...`: mostly the arguments the verb takes (some of them wrong), now and
    /// then any words, a wrong version, a CR or a trailing space.
    static func generatedLine(_ rng: inout Rng) -> [UInt8] {
        var words = [rng.below(20) == 0 ? rng.pick(["iptrtp/1", "IPTRTP/2", "iptrtp/2 "]) : "iptrtp/2"]
        words.append(rng.below(4) == 0 ? rng.pick(idWords) : "\(rng.below(1000))")
        let verb = rng.pick(verbWords)
        words.append(verb)
        func some(_ items: [String], _ counts: [Int]) -> [String] { (0..<rng.pick(counts)).map { _ in rng.pick(items) } }
        if rng.below(5) == 0 {
            words += some(names + handles + fields + otherWords, [0, 1, 2, 3, 5])
        } else {
            switch verb {
            case "auth": words += some(otherWords, [2, 2, 2, 1, 3])
            case "list": words += some(names, [0, 1, 1, 2])
            case "alloc": words += some(names, [1, 1, 1, 0]) + some(fields, [0, 1, 2, 3, 4])
            case "update": words += some(names, [1, 1, 1, 0]) + some(handles, [1, 1, 1, 0]) + some(fields, [0, 1, 2, 3])
            case "delete": words += some(names, [1]) + some(handles, [1, 1, 1, 2])
            default: words += some(otherWords, [0, 0, 0, 1])
            }
        }
        var line = Array(words.joined(separator: " ").utf8)
        switch rng.below(20) {
        case 0: line.append(13)
        case 1: line.append(32)
        default: break
        }
        return line
    }

    @Test("generated requests meet the contract; every command decodes and so do errors of each kind")
    func generatedRequests() {
        var rng = Rng(state: 42)
        var decodedVerbs: [String: Int] = [:]
        var refusedWithID = 0, refusedWithoutID = 0
        for _ in 0..<30_000 {
            switch Self.checkContract(Self.generatedLine(&rng)) {
            case .decoded(let request): decodedVerbs[request.command.verb, default: 0] += 1
            case .refused(let error): if error.id == nil { refusedWithoutID += 1 } else { refusedWithID += 1 }
            }
        }
        // Every command was decoded many times over, and both kinds of error occurred.
        for verb in ["ping", "auth", "info", "list", "stats", "alloc", "update", "delete"] {
            #expect(decodedVerbs[verb, default: 0] >= 50, "\(verb) decoded \(decodedVerbs[verb, default: 0]) times")
        }
        #expect(refusedWithID >= 1_000, "\(refusedWithID) refused with an id")
        #expect(refusedWithoutID >= 1_000, "\(refusedWithoutID) refused without an id")
    }

    static let fragments = [
        "iptrtp/2", " ", "1", "x-9", "alloc", "update", "delete", "list", "ping", "info", "stats", "auth", "pub",
        "a.rtp=", "b.rtcp=", "a.signal=", "b.signal=", "a.always-learn=1", "a.rtp-learning=", "192.0.2.1:4000", "[::1]:5", "[", "]", ":",
        "/", "-", "=", "7/1", "3-4/9", "4294967296", "65536", "\r", "\t", "é", "\u{0}", ".",
    ]

    @Test("random splices of protocol words and random bytes meet the contract")
    func randomSplicesAndBytes() {
        var rng = Rng(state: 0x9E37_79B9_7F4A_7C15)
        var refused = 0
        for _ in 0..<20_000 {
            let spliced = (0..<rng.below(12)).map { _ in rng.pick(Self.fragments) }.joined()
            if case .refused = Self.checkContract(Array(spliced.utf8)) { refused += 1 }
            let bytes = (0..<rng.below(80)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if case .refused = Self.checkContract(bytes) { refused += 1 }
            _ = try? ControlProtocol.decodeReply(bytes)
        }
        #expect(refused > 30_000, "\(refused) of 40000 refused")
    }

    @Test("random requests round-trip exactly")
    func roundTrip() throws {
        var rng = Rng(state: 7)
        let addresses = ["192.0.2.1", "10.0.0.254", "2001:db8::1", "::ffff:192.0.2.9", "fe80::1"]
        for _ in 0..<2_000 {
            var request = SessionRequest()
            for side in GateSide.allCases where rng.below(3) != 0 {
                request[side].alwaysLearn = rng.below(2) == 0
                if rng.below(2) == 0 { request[side].signal = IPAddress(rng.pick(addresses))! }
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

    // MARK: Replies

    @Test("reply lines: what decodes re-encodes to a line that decodes to the same reply; the rest is an error with a message")
    func replyLines() {
        var rng = Rng(state: 5)
        let statuses = ["ok", "error", "OK", "fine", ""]
        let payloads = ["", "pong", "3/1700000000 40006 41006", "no session 7/1", "{\"a\": [1, 2]}", " lead", "tail ", "a\rb"]
        var decoded = 0, refused = 0
        for _ in 0..<5_000 {
            var words = [rng.below(10) == 0 ? "iptrtp/1" : "iptrtp/2", rng.pick(["5", "-", "r.1"]), rng.pick(statuses)]
            let payload = rng.pick(payloads)
            if !payload.isEmpty || rng.below(2) == 0 { words.append(payload) }
            let line = words.joined(separator: " ")
            do {
                let reply = try ControlProtocol.decodeReply(Array(line.utf8))
                decoded += 1
                let again = try ControlProtocol.decodeReply(Array(ControlProtocol.encode(reply).utf8))
                #expect(again == reply || payload.contains("\r"), "line \(line.debugDescription)")
            } catch let error as ControlProtocolError {
                refused += 1
                #expect(!error.message.isEmpty)
                #expect(!["ok", "error"].contains(words[2]) || words[0] != "iptrtp/2", "refused \(line.debugDescription)")
            } catch {
                Issue.record("line \(line.debugDescription): threw \(error)")
            }
        }
        #expect(decoded > 1_000 && refused > 1_000, "\(decoded) decoded, \(refused) refused")
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
