import Testing
@testable import IPTRTPProxyCore

@Suite("Session ids: switchboard[:id/created,...]")
struct SessionIDListTests {
    @Test("round trip with empty and repeated entries")
    func roundTrip() throws {
        let list = try SessionIDList(parsing: "pub:7/1234,,7/1234")
        #expect(list.switchboard == "pub")
        #expect(list.entries == [SessionHandle(id: 7, created: 1234), nil, SessionHandle(id: 7, created: 1234)])
        #expect(list.description == "pub:7/1234,,7/1234")
    }

    @Test("every list prints and parses back the same", arguments: [
        SessionIDList(switchboard: "pub", entries: []), SessionIDList(switchboard: "pub", entries: [nil]),
        SessionIDList(switchboard: "pub", entries: [nil, nil]), SessionIDList(switchboard: "a-b", entries: [SessionHandle(id: 0, created: 0), nil]),
    ])
    func printsAndParsesBack(list: SessionIDList) throws {
        #expect(try SessionIDList(parsing: list.description) == list)
    }

    @Test("the doc grammar's forms are accepted", arguments: [
        ("pub", 0), ("pub:", 1), ("pub:3", 1), ("pub:,", 2), ("pub:1/2,", 2),
    ])
    func grammar(text: String, count: Int) throws {
        #expect(try SessionIDList(parsing: text).entries.count == count)
    }

    @Test("an id without /created matches any incarnation")
    func bareID() throws {
        #expect(try SessionIDList(parsing: "pub:3").entries == [SessionHandle(id: 3, created: 0)])
    }

    @Test("malformed lists are refused", arguments: ["", ":1/2", "pub:x/1", "pub:1/x", "pub:1/2/3", "pub:-1/2", "p b:1/2"])
    func malformed(text: String) {
        #expect(throws: SessionIDError.self) { try SessionIDList(parsing: text) }
    }
}

@Suite("session ids with a media host")
struct SessionIDListHostTests {
    @Test("name@host:entries round-trips; ids without a host stay what they were")
    func hostPart() throws {
        let l = try SessionIDList(parsing: "pub@m2:7/1234,,7/1234")
        #expect(l.switchboard == "pub" && l.host == "m2")
        #expect(l.entries == [SessionHandle(id: 7, created: 1234), nil, SessionHandle(id: 7, created: 1234)])
        #expect(l.description == "pub@m2:7/1234,,7/1234")
        #expect(try SessionIDList(parsing: "pub@5f3a9c12").description == "pub@5f3a9c12")
        let old = try SessionIDList(parsing: "pub:7/1234")
        #expect(old.host == nil && old.description == "pub:7/1234")
    }

    @Test("a bad host part is refused", arguments: ["pub@:1/2", "pub@a@b:1/2", "@m1:1/2", "pub@\(String(repeating: "h", count: 33)):1/2", "pub@m 1:1/2"])
    func badHost(_ text: String) {
        #expect(throws: SessionIDError.self) { try SessionIDList(parsing: text) }
    }
}

@Suite("session ids: properties")
struct SessionIDListPropertyTests {

    @Test("any list with or without a host prints and parses back the same (2,000 random lists)")
    func randomRoundTrip() throws {
        var rng = SeededRandom(state: 10)
        let nameChars = Array("abcXYZ019_-"), hostChars = Array("abcXYZ019_-.")
        for _ in 0..<2000 {
            let name = String((0..<(1 + rng.below(12))).map { _ in nameChars[rng.below(nameChars.count)] })
            let host: String? = rng.below(2) == 0 ? nil : String((0..<(1 + rng.below(32))).map { _ in hostChars[rng.below(hostChars.count)] })
            let entries: [SessionHandle?] = (0..<rng.below(6)).map { _ in
                rng.below(3) == 0 ? nil : SessionHandle(id: rng.below(65536), created: UInt32(truncatingIfNeeded: rng.next()))
            }
            let list = SessionIDList(switchboard: name, host: host, entries: entries)
            #expect(try SessionIDList(parsing: list.description) == list, "\(list)")
        }
    }

    @Test("random bytes either parse or are refused with SessionIDError, never trap (5,000 strings)")
    func garbage() {
        var rng = SeededRandom(state: 77)
        let alphabet = Array("pub@m2:7/1234,,\u{0}é :/@,-_.9x")
        for _ in 0..<5000 {
            let text = String((0..<rng.below(40)).map { _ in alphabet[rng.below(alphabet.count)] })
            do {
                let list = try SessionIDList(parsing: text)
                #expect(try SessionIDList(parsing: list.description) == list)
            } catch {
                #expect(error is SessionIDError)
            }
        }
    }
}
