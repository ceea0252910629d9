import Testing
@testable import IPTRTPProxyCore

/// The relay decodes the requests of every call (alloc, update, delete, ping) on a path of their
/// own (`ControlProtocol.decodeCommon`). It must never decide differently from the general
/// decoder: on every line of the property tests' corpora it either declines (nil) or returns
/// exactly the request the general decoder returns, and it declines every line the general
/// decoder refuses.
@Suite("control protocol: the common requests' decoder agrees with the general one")
struct ControlCommonRequestTests {
    /// Records an issue when the two decoders disagree on `line`; returns whether the common path took it.
    @discardableResult
    static func agree(_ line: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let shown = String(decoding: line.prefix(200), as: UTF8.self).debugDescription
        let general = try? ControlProtocol.decodeGeneral(line[...])
        guard let common = ControlProtocol.decodeCommon(line[...]) else { return false }
        #expect(general == common, "line \(shown): common path \(common), general \(String(describing: general))",
                sourceLocation: sourceLocation)
        return true
    }

    @Test("known-good lines, each with a final CR too: the common path takes every alloc, update, delete and ping")
    func knownGood() {
        for good in ControlFuzzTests.goodLines {
            let line = Array(good.utf8)
            let verb = good.split(separator: " ")[2]
            let taken = Self.agree(line)
            // Lines with an ICE field or an IPv6 signal are still common; only other verbs are not.
            #expect(taken == ["alloc", "update", "delete", "ping"].contains(verb), "\(good)")
            #expect(Self.agree(line + [13]) == taken)
        }
        let call = "iptrtp/2 p1-7 alloc bench call-id=1-2@127.0.0.42 from-tag=9 a.always-learn=0 a.signal=127.0.0.42 a.rtp=127.0.0.42:44972 a.rtp-learning=90 a.rtcp=127.0.0.42:44973 a.rtcp-learning=90"
        #expect(Self.agree(Array(call.utf8)))
    }

    @Test("one-byte mutations, doubled spaces, repeated and dropped fields of known-good lines")
    func mutations() {
        var taken = 0
        for good in ControlFuzzTests.goodLines {
            let line = Array(good.utf8)
            for i in line.indices {
                var deleted = line; deleted.remove(at: i)
                if Self.agree(deleted) { taken += 1 }
                for b in ControlFuzzTests.mutationBytes + Array("+0123456789abz".utf8) {
                    var replaced = line; replaced[i] = b
                    if Self.agree(replaced) { taken += 1 }
                    var inserted = line; inserted.insert(b, at: i)
                    if Self.agree(inserted) { taken += 1 }
                }
            }
            let words = good.split(separator: " ").map(String.init)
            for i in words.indices.dropFirst(3) {
                var repeated = words; repeated.insert(words[i], at: i + 1)
                Self.agree(Array(repeated.joined(separator: " ").utf8))
                var dropped = words; dropped.remove(at: i)
                Self.agree(Array(dropped.joined(separator: " ").utf8))
            }
        }
        #expect(taken > 1_000, "\(taken) mutants taken by the common path")
    }

    @Test("generated requests, random splices and random bytes")
    func generated() {
        var rng = ControlFuzzTests.Rng(state: 42)
        var taken = 0
        for _ in 0..<30_000 where Self.agree(ControlFuzzTests.generatedLine(&rng)) { taken += 1 }
        #expect(taken > 1_000, "\(taken) generated lines taken by the common path")
        var splices = ControlFuzzTests.Rng(state: 0x9E37_79B9_7F4A_7C15)
        for _ in 0..<20_000 {
            let spliced = (0..<splices.below(12)).map { _ in splices.pick(ControlFuzzTests.fragments) }.joined()
            Self.agree(Array(spliced.utf8))
            Self.agree((0..<splices.below(80)).map { _ in UInt8(truncatingIfNeeded: splices.next()) })
        }
    }

    @Test("numbers at and past their limits, signs and leading zeros")
    func numbers() {
        for handle in ["65535/4294967295", "65536/1", "0/4294967296", "+7/1", "7/+1", "007/01", "0-65535/0", "5-4/1", "1--2/3",
                       "1-2-3/4", "1/2/3", "/1", "1/", "99999999999999999999999/1", "1/000000000000000000000000007"] {
            Self.agree(Array("iptrtp/2 9 delete pub \(handle)".utf8))
            Self.agree(Array("iptrtp/2 9 update pub \(handle)".utf8))
        }
        for value in ["4294967295", "4294967296", "+5", "-0", "007", "", "18446744073709551616"] {
            Self.agree(Array("iptrtp/2 1 alloc pub a.rtp-learning=\(value)".utf8))
        }
        let longID = String(repeating: "x", count: 129)
        for field in ["call-id=\(longID)", "call-id=", "from-tag=1", "call-id=a from-tag=b", "a.always-learn=2", "b.signal=::1",
                      "a.rtp=[::1]:5", "a.rtp=1.2.3.4:65536", "a.ice=abcd:\(String(repeating: "p", count: 22))", "a.rtp=1.2.3.4:5 a.rtp=1.2.3.4:5"] {
            Self.agree(Array("iptrtp/2 1 alloc pub \(field)".utf8))
        }
    }
}
