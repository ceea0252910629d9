import Testing
@testable import IPTRTPProxyCore


/// Builds random but plausible SDP offers: media of several kinds, ports (some 0), session- and
/// media-level addresses, a=rtcp lines, unknown lines, and either line ending.
func randomOffer(_ rng: inout SeededRandom) -> (bytes: [UInt8], ending: String) {
    let ending = Bool.random(using: &rng) ? "\r\n" : "\n"
    let addresses = ["192.0.2.10", "198.51.100.7", "2001:db8::7", "phone.example.com", "0.0.0.0"]
    let transports = ["RTP/AVP", "RTP/SAVP", "udptl", "TCP/MSRP", "RTP/AVPF", "TCP/BFCP"]
    var lines = ["v=0", "o=- \(rng.next() % 100000) 1 IN IP4 192.0.2.10", "s=call"]
    if Bool.random(using: &rng) {
        let a = addresses.randomElement(using: &rng)!
        lines.append("c=IN \(a.contains(":") ? "IP6" : "IP4") \(a)")
    }
    lines.append("t=0 0")
    for _ in 0..<Int.random(in: 0...6, using: &rng) {
        let port = Bool.random(using: &rng) && Bool.random(using: &rng) ? 0 : Int.random(in: 1024...65000, using: &rng)
        lines.append("m=\(["audio", "video", "image"].randomElement(using: &rng)!) \(port) \(transports.randomElement(using: &rng)!) 0 8")
        if Bool.random(using: &rng) && Bool.random(using: &rng) { lines.append("i=stream") }
        if Bool.random(using: &rng) && Bool.random(using: &rng) { lines.append("b=AS:64") }
        if Bool.random(using: &rng) {
            let a = addresses.randomElement(using: &rng)!
            lines.append("c=IN \(a.contains(":") ? "IP6" : "IP4") \(a)")
        }
        if Bool.random(using: &rng) { lines.append("a=rtcp:\(port + 1)") }
        if Bool.random(using: &rng) { lines.append("a=sendrecv") }
    }
    return (Array((lines.joined(separator: ending) + ending).utf8), ending)
}

@Suite("Rewrite invariants over random offers")
struct RewritePropertyTests {
    @Test("untouched lines stay byte-identical and the output points every active media at the relay")
    func invariants() throws {
        var rng = SeededRandom(state: 0x15EED)
        // IPv4 callers on `pub`, IPv6 callers on `pub6`; both point the SDP at the same gate B.
        let set = try testSwitchboards(testConfig.replacingOccurrences(of: "max-sess = 4", with: "max-sess = 2000") + """

            [switchboard:pub6]
            addr-a = 2001:db8::1
            addr-b = 203.0.113.1
            port-a = 30000
            port-b = 40000
            max-sess = 2000
            """)
        for _ in 0..<500 {
            let (input, ending) = randomOffer(&rng)
            let before = try SDPParser.parse(input)
            let families = Set(before.media.compactMap { $0.endpoint?.address.isV6 })
            let plane = RecordingPlane(set)
            let f = ScriptFunctions(switchboards: set, plane: plane)
            var selects = SelectValues()
            let result = f.alloc(flags: ScriptFlags(1), switchboard: families == [true] ? "pub6" : "pub",
                                 body: input, contentType: nil, selects: &selects)
            if families.count == 2 {
                // An IPv6 client on an IPv4 gate (or the reverse) is refused, as the relay refuses it.
                #expect(!result.succeeded && result.body == nil)
                #expect(result.error?.contains("but gate A is IPv") == true, "\(result.error ?? "")")
                #expect(plane.inner.sessions(of: "pub").isEmpty)
                continue
            }
            #expect(result.succeeded)
            let output = result.body ?? input
            let after = try SDPParser.parse(output)

            // Same media, same activity; active media now carry gate B's address (unless on hold) and a relay port.
            #expect(after.media.count == before.media.count)
            for (b, a) in zip(before.media, after.media) {
                #expect(a.isActive == b.isActive)
                if b.isActive {
                    #expect(a.port >= 40000 && a.port < 44000 && a.port % 2 == 0)
                    if b.connection?.address?.isUnspecified != true {
                        #expect(a.connection?.address == IPAddress("203.0.113.1"))
                    }
                    if let rtcp = a.rtcp { #expect(rtcp.port == a.port + 1) }
                } else {
                    #expect(a.port == b.port)
                }
            }
            // Media the relay does not carry still reach the phone: the address they had.
            let sessionRewritten = before.sessionConnection != nil && after.sessionConnection?.addressText != before.sessionConnection?.addressText
            var added = 0
            for (b, a) in zip(before.media, after.media) where !b.isActive {
                if b.inheritsSessionConnection {
                    if sessionRewritten {
                        added += 1
                        #expect(!a.inheritsSessionConnection && a.ownConnection?.addressText == before.sessionConnection?.addressText,
                                "m= line \(a.line) of\n\(String(decoding: output, as: UTF8.self))")
                    } else {
                        #expect(a.inheritsSessionConnection)
                    }
                } else {
                    #expect(a.ownConnection?.addressText == b.ownConnection?.addressText)
                }
            }
            // Line by line: the same endings, only c=, m= and a=rtcp lines may differ, and the only
            // lines added are copies of the original session-level c=.
            let inLines = String(decoding: input, as: UTF8.self).components(ending)
            let outLines = String(decoding: output, as: UTF8.self).components(ending)
            #expect(outLines.count == inLines.count + added)
            let sessionLine = before.sessionConnection.map { String(decoding: input[$0.lineRange], as: UTF8.self) }
            var o = 0
            for i in inLines where o < outLines.count {
                if outLines[o] != i && outLines[o] == sessionLine {
                    o += 1
                    guard o < outLines.count else { break }
                }
                if i != outLines[o] {
                    #expect(i.hasPrefix("c=") || i.hasPrefix("m=") || i.hasPrefix("a=rtcp:"), "changed line \(i) -> \(outLines[o])")
                }
                o += 1
            }
            #expect(o == outLines.count)
            // The ids name one entry per m= line.
            let ids = try SessionIDList(parsing: selects.sessionIDs!)
            #expect(ids.entries.count == before.media.count)
        }
    }
}

extension String {
    func components(_ separator: String) -> [String] {
        var result: [String] = []
        var rest = Substring(self)
        while let r = rest.range(of: separator) {
            result.append(String(rest[..<r.lowerBound]))
            rest = rest[r.upperBound...]
        }
        result.append(String(rest))
        return result
    }

    func replacingOccurrences(of target: String, with replacement: String) -> String {
        components(target).joined(separator: replacement)
    }
}

extension Substring {
    func range(of needle: String) -> Range<Substring.Index>? {
        let n = Array(needle.utf8)
        var i = startIndex
        while i < endIndex {
            if self[i...].utf8.starts(with: n) {
                return i..<self.utf8.index(i, offsetBy: n.count)
            }
            i = index(after: i)
        }
        return nil
    }
}
