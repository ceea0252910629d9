import Foundation
import Testing
@testable import IPTRTPProxyCore

/// The Fuzz corpus's SDP bodies (Fuzz/corpus/sdp/*.sdp).
private func fuzzCorpus() -> [[UInt8]] {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Fuzz/corpus/sdp").standardizedFileURL
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { $0.hasSuffix(".sdp") }.sorted().compactMap {
        FileManager.default.contents(atPath: folder.appendingPathComponent($0).path).map { Array($0) }
    }
}

/// Checks that `result`'s edits make its body from `input`: nil together, in increasing offset
/// order, disjoint, inside `sdpRange`, each a replaced token or an inserted line.
private func expectEditsMakeBody(_ result: FunctionResult, from input: [UInt8], sdpRange: Range<Int>,
                                 sourceLocation: SourceLocation = #_sourceLocation) {
    #expect((result.body == nil) == (result.edits == nil), sourceLocation: sourceLocation)
    guard let body = result.body, let edits = result.edits else { return }
    #expect(BodyEdit.apply(edits, to: input) == body, "\(edits)", sourceLocation: sourceLocation)
    #expect(edits == BodyEdit.ordered(edits), sourceLocation: sourceLocation)
    #expect(BodyEdit.areDisjoint(edits), "\(edits)", sourceLocation: sourceLocation)
    for edit in edits {
        #expect(edit.offset >= sdpRange.lowerBound && edit.offset + edit.length <= sdpRange.upperBound,
                "\(edit) outside the SDP part \(sdpRange)", sourceLocation: sourceLocation)
        if edit.replacement.isEmpty {
            // Only whole ICE attribute lines are removed (ice=remove): from a line start, ending
            // with a line ending or the text.
            #expect(edit.length > 0 && Array(input[edit.offset..<min(edit.offset + 2, input.count)]) == Array("a=".utf8)
                    && (edit.offset == 0 || input[edit.offset - 1] == 10 || input[edit.offset - 1] == 13)
                    && (edit.offset + edit.length == sdpRange.upperBound || [10, 13].contains(input[edit.offset + edit.length - 1])),
                    "\(edit)", sourceLocation: sourceLocation)
        } else if edit.length == 0 {
            // Only whole c= lines are inserted, at a line start.
            #expect(edit.replacement.starts(with: Array("c=".utf8)) || edit.replacement.first == UInt8(ascii: "\r")
                    || edit.replacement.first == UInt8(ascii: "\n"), "\(edit)", sourceLocation: sourceLocation)
        } else {
            // A replaced token never spans a line end.
            #expect(!input[edit.range].contains(UInt8(ascii: "\n")), "\(edit)", sourceLocation: sourceLocation)
        }
    }
}

@Suite("alloc and update give their rewrite as edits of the original body")
struct BodyEditTests {
    @Test("apply, ordered, areDisjoint, shifted")
    func basics() {
        let text = Array("abcdef".utf8)
        let edits = [BodyEdit(offset: 4, length: 1, replacement: Array("XY".utf8)),
                     BodyEdit(offset: 1, length: 0, replacement: Array("+".utf8)),
                     BodyEdit(offset: 1, length: 2, replacement: Array("Q".utf8))]
        #expect(String(decoding: BodyEdit.apply(edits, to: text), as: UTF8.self) == "a+QdXYf")
        #expect(BodyEdit.ordered(edits).map(\.offset) == [1, 1, 4])
        #expect(BodyEdit.ordered(edits).first?.length == 0)
        #expect(BodyEdit.areDisjoint(edits))
        #expect(!BodyEdit.areDisjoint(edits + [BodyEdit(offset: 2, length: 0, replacement: [0x41])]))
        #expect(!BodyEdit.areDisjoint(edits + [BodyEdit(offset: 2, length: 3, replacement: [0x41])]))
        #expect(BodyEdit.areDisjoint(edits + [BodyEdit(offset: 3, length: 1, replacement: [0x41])]))
        #expect(edits[0].shifted(by: 10) == BodyEdit(offset: 14, length: 1, replacement: Array("XY".utf8)))
    }

    @Test("an offer: one edit per rewritten token, at the token's bytes")
    func tokens() throws {
        let plane = RecordingPlane(try testSwitchboards())
        let f = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let input = crlf("v=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0 8\na=rtcp:4001\na=rtpmap:8 PCMA/8000\n")
        let result = f.alloc(flags: ScriptFlags(1), switchboard: "pub", body: input, contentType: "application/sdp", selects: &selects)
        let edits = try #require(result.edits)
        func at(_ token: String) -> Int {
            let s = String(decoding: input, as: UTF8.self)
            return s.utf8.distance(from: s.startIndex, to: s.range(of: token)!.lowerBound)
        }
        #expect(edits == [BodyEdit(offset: at("192.0.2.1"), length: 9, replacement: Array("203.0.113.1".utf8)),
                          BodyEdit(offset: at("4000"), length: 4, replacement: Array("40000".utf8)),
                          BodyEdit(offset: at("4001"), length: 4, replacement: Array("40001".utf8))])
        expectEditsMakeBody(result, from: input, sdpRange: 0..<input.count)
    }

    @Test("a multipart body: the edits are in body coordinates")
    func multipart() throws {
        let plane = RecordingPlane(try testSwitchboards())
        let f = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
        var selects = SelectValues()
        let input = crlf("--b\nContent-Type: text/plain\n\nhi\n--b\nContent-Type: application/sdp\n\nv=0\nc=IN IP4 192.0.2.1\nm=audio 4000 RTP/AVP 0\n\n--b--\n")
        let result = f.alloc(flags: ScriptFlags(1), switchboard: "pub", body: input, contentType: "multipart/mixed;boundary=b", selects: &selects)
        let edits = try #require(result.edits)
        #expect(edits.count == 2)
        #expect(edits.allSatisfy { input[$0.range] == ArraySlice(Array("192.0.2.1".utf8)) || input[$0.range] == ArraySlice(Array("4000".utf8)) })
        let range = try #require(SDPBodyPart.locate(body: input, contentType: "multipart/mixed;boundary=b"))
        expectEditsMakeBody(result, from: input, sdpRange: range)
    }

    @Test("property: over random offers (plain and multipart), alloc's and update's edits applied to the original give exactly the new body")
    func property() throws {
        var rng = SeededRandom(state: 0xED175)
        let set = try testSwitchboards(testConfig.replacingOccurrences(of: "max-sess = 4", with: "max-sess = 4000") + """

            [switchboard:pub6]
            addr-a = 2001:db8::1
            addr-b = 203.0.113.1
            port-a = 30000
            port-b = 40000
            max-sess = 4000
            """)
        var rewritten = 0, updated = 0, inserted = 0
        for round in 0..<600 {
            let (sdp, ending) = randomOffer(&rng)
            let (answer, _) = randomOffer(&rng)
            let families = Set(try SDPParser.parse(sdp).media.compactMap { $0.endpoint?.address.isV6 })
            let multipart = round % 3 == 0
            func wrap(_ part: [UInt8]) -> (body: [UInt8], contentType: String) {
                guard multipart else { return (part, "application/sdp") }
                let head = Array("--xx\(ending)Content-Type: text/plain\(ending)\(ending)note\(ending)--xx\(ending)Content-Type: application/sdp\(ending)\(ending)".utf8)
                return (head + part + Array("\(ending)--xx--\(ending)".utf8), "multipart/mixed;boundary=xx")
            }
            let (body, contentType) = wrap(sdp)
            let plane = RecordingPlane(set)
            let f = ScriptFunctions(switchboards: set, plane: plane)
            var selects = SelectValues()
            let alloc = f.alloc(flags: ScriptFlags(1), switchboard: families == [true] ? "pub6" : "pub",
                                body: body, contentType: contentType, selects: &selects)
            guard let range = SDPBodyPart.locate(body: body, contentType: contentType) else {
                Issue.record("no SDP part found in \(String(decoding: body, as: UTF8.self))")
                continue
            }
            expectEditsMakeBody(alloc, from: body, sdpRange: range)
            if alloc.body != nil { rewritten += 1 }
            if alloc.edits?.contains(where: { $0.length == 0 }) == true { inserted += 1 }
            guard alloc.succeeded, let ids = selects.sessionIDs, ids.contains("/") else { continue }
            // The answer (another random SDP) from the other side.
            let (answerBody, answerType) = wrap(answer)
            let update = f.update(flags: ScriptFlags(0), sessionIDs: ids, body: answerBody, contentType: answerType, selects: &selects)
            guard let answerRange = SDPBodyPart.locate(body: answerBody, contentType: answerType) else { continue }
            expectEditsMakeBody(update, from: answerBody, sdpRange: answerRange)
            if update.body != nil { updated += 1 }
        }
        // The generator reaches the interesting cases.
        #expect(rewritten > 200 && updated > 100 && inserted > 5, "rewritten \(rewritten), updated \(updated), inserted \(inserted)")
    }

    @Test("the SDP corpora (Fuzz/corpus/sdp, the malformed bodies): edits agree with the body or there is neither")
    func corpora() throws {
        let corpus = fuzzCorpus()
        #expect(corpus.count >= 4)
        for input in corpus + malformedBodies.map({ Array($0.utf8) }) {
            let plane = RecordingPlane(try testSwitchboards())
            let f = ScriptFunctions(switchboards: plane.inner.switchboards, plane: plane)
            var selects = SelectValues()
            let contentType = String(decoding: input.prefix(2), as: UTF8.self) == "--" ? "multipart/mixed;boundary=b" : "application/sdp"
            let result = f.alloc(flags: ScriptFlags(1), switchboard: "pub", body: input, contentType: contentType, selects: &selects)
            let range = SDPBodyPart.locate(body: input, contentType: contentType) ?? 0..<input.count
            expectEditsMakeBody(result, from: input, sdpRange: range)
            if let ids = selects.sessionIDs, result.succeeded {
                let update = f.update(flags: ScriptFlags(0), sessionIDs: ids, body: input, contentType: contentType, selects: &selects)
                expectEditsMakeBody(update, from: input, sdpRange: range)
            }
        }
    }
}
