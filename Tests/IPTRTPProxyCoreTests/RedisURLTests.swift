import Testing
@testable import IPTRTPProxyCore

@Suite("RedisURL")
struct RedisURLTests {
    @Test(arguments: [
        ("redis://127.0.0.1", RedisURL(host: "127.0.0.1")),
        ("redis://localhost:6380", RedisURL(host: "localhost", port: 6380)),
        ("REDIS://Redis-1.example.com:1/15", RedisURL(host: "Redis-1.example.com", port: 1, database: 15)),
        ("redis://10.0.0.1/", RedisURL(host: "10.0.0.1")),
        ("redis://10.0.0.1/9999", RedisURL(host: "10.0.0.1", database: 9999)),
        ("redis://[::1]", RedisURL(host: "::1")),
        ("redis://[2001:db8::7]:65535/3", RedisURL(host: "2001:db8::7", port: 65535, database: 3)),
        ("redis://:secret@db:7000/2", RedisURL(host: "db", port: 7000, database: 2, password: "secret")),
        ("redis://:p%40ss%25w:rd@[::1]", RedisURL(host: "::1", password: "p@ss%w:rd")),
        ("redis://:a@b@h", RedisURL(host: "h", password: "a@b")),
        ("redis://:x/y@h/1", RedisURL(host: "h", database: 1, password: "x/y")),
    ])
    func parsesValid(text: String, expected: RedisURL) throws {
        #expect(try RedisURL(parsing: text) == expected)
    }

    @Test(arguments: [
        "", "redis:", "redis://", "redis:/h", "http://h", "rediss://h", "redis//h", " redis://h", "redis://h ",
        "redis://h\t", "redis://h\n", "redis://h\u{0}", "redis://hé", "redis://:6379", "redis:///0",
        "redis://h:", "redis://h:0", "redis://h:65536", "redis://h:99999", "redis://h:123456", "redis://h:-1",
        "redis://h:+1", "redis://h:6a", "redis://h/x", "redis://h/-1", "redis://h/10000", "redis://h/00000",
        "redis://h/1/2", "redis://h/1?x=1", "redis://h#f", "redis://h:1:2", "redis://[::1", "redis://[::1]x",
        "redis://[1.2.3.4]", "redis://[]", "redis://::1", "redis://256.0.0.1", "redis://1.2.3", "redis://-h",
        "redis://h-", "redis://a..b", "redis://.h", "redis://h.", "redis://h_x", "redis://user:pw@h",
        "redis://@h", "redis://:@h", "redis://:pw@", "redis://:p%4@h", "redis://:p%zz@h", "redis://:%ff@h",
        "redis://h?", "redis://h/1 ", "redis://h:6379/",
    ])
    func rejectsInvalid(text: String) {
        if text == "redis://h:6379/" {  // the control: a trailing '/' alone is fine
            #expect(throws: Never.self) { try RedisURL(parsing: text) }
            return
        }
        #expect(throws: RedisURLError.self) { try RedisURL(parsing: text) }
    }

    @Test func descriptionHidesPasswordAndBracketsIPv6() throws {
        #expect(RedisURL(host: "h").description == "redis://h:6379/0")
        #expect(try RedisURL(parsing: "redis://:hunter2@[2001:db8::1]:7/4").description == "redis://:***@[2001:db8::1]:7/4")
    }

    @Test func errorNamesTextAndExpectationOnOneLineWithoutPassword() {
        do {
            _ = try RedisURL(parsing: "redis://:hunter2@h:0")
            Issue.record("parsed")
        } catch let error as RedisURLError {
            #expect(error.description == "redis URL \"redis://:***@h:0\": expected a port 1-65535 after ':'")
        } catch { Issue.record("\(error)") }
        do {
            _ = try RedisURL(parsing: "redis://bob:hunter2@h\n")
            Issue.record("parsed")
        } catch let error as RedisURLError {
            #expect(!error.description.contains("hunter2"))
            #expect(!error.description.contains("\n"))
            #expect(error.description.contains("\\x0a"))
            #expect(error.description.contains("control character"))
        } catch { Issue.record("\(error)") }
        #expect(RedisURLError(text: "http://x", "r").description == "redis URL \"http://x\": r")
    }

    /// Random bytes and mutated URLs never trap; what parses prints back to itself (no password).
    @Test func randomTextNeverTrapsAndValidURLsRoundTrip() throws {
        var rng = SeededRandom(state: 12)
        let alphabet = Array("redis:/[]@%.-0123456789abcdefRX: \t\u{0}\u{7f}é".unicodeScalars)
        let hosts = ["127.0.0.1", "[::1]", "[2001:db8::2]", "db.example.com", "a", "x-1.y2", "[::ffff:1.2.3.4]"]
        var parsed = 0
        for _ in 0..<5000 {
            // Garbage.
            var garbage = ""
            for _ in 0..<Int.random(in: 0...24, using: &rng) {
                garbage.unicodeScalars.append(alphabet.randomElement(using: &rng)!)
            }
            if Bool.random(using: &rng) { garbage = "redis://" + garbage }
            if let url = try? RedisURL(parsing: garbage), url.password == nil {
                #expect(try RedisURL(parsing: url.description) == url, "\(garbage)")
                parsed += 1
            }
            // A valid URL, printed and parsed back.
            let host = hosts.randomElement(using: &rng)!
            var text = "redis://" + host
            if Bool.random(using: &rng) { text += ":\(Int.random(in: 1...65535, using: &rng))" }
            if Bool.random(using: &rng) { text += "/\(Int.random(in: 0...9999, using: &rng))" }
            let url = try RedisURL(parsing: text)
            #expect(try RedisURL(parsing: url.description) == url, "\(text)")
            // The same, with one byte changed: must not trap.
            var bytes = Array(text.utf8)
            bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            _ = try? RedisURL(parsing: String(decoding: bytes, as: UTF8.self))
        }
        #expect(parsed > 0)
    }
}
