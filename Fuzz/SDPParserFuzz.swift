// libFuzzer target for the SDP path: parse, and when it parses, rewrite every active media and
// parse the result again. Built by scripts/fuzz.sh with `swiftc -sanitize=fuzzer,address`
// together with the IPTRTPProxyCore sources (it is not part of the SwiftPM package).

/// Properties checked on every input, beyond "does not crash":
/// - a rewritten SDP parses again with the same number of media, all still active where they were;
/// - when the session-level `c=` was rewritten, every media that is not relayed and had no `c=` of
///   its own has one now, with the original session-level address;
/// - session-id strings print and parse back the same.
@_cdecl("LLVMFuzzerTestOneInput")
public func sdpParserFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    if let sdp = try? SDPParser.parse(bytes) {
        let targets = sdp.media.map { $0.isActive ? MediaTarget(address: .v4(0x0A00_0001), rtpPort: 30000) : nil }
        let out = SDPRewriter.rewrite(sdp, targets: targets)
        guard let again = try? SDPParser.parse(out.bytes) else { fatalError("rewritten SDP no longer parses") }
        guard again.media.count == sdp.media.count else { fatalError("rewrite changed the number of media") }
        for (a, b) in zip(sdp.media, again.media) where a.isActive && !b.isActive {
            fatalError("rewrite deactivated a media")
        }
        let sessionRewritten = sdp.media.contains { $0.isActive && $0.inheritsSessionConnection }
            && sdp.sessionConnection?.address?.isUnspecified != true
        for (a, b) in zip(sdp.media, again.media) where sessionRewritten && !a.isActive && a.inheritsSessionConnection {
            guard b.ownConnection?.addressText == sdp.sessionConnection?.addressText else {
                fatalError("a media the relay does not carry lost the session-level address")
            }
        }
    }
    if let sdp = try? SDPParser.parse(bytes) {
        // ice=force: the relay's candidates added, the phone's removed; still one valid SDP, and
        // the edits (what the Kamailio glue turns into lumps) give exactly the new text.
        let targets = sdp.media.map { $0.isActive ? MediaTarget(address: .v4(0x0A00_0001), rtpPort: 30000) : nil }
        let out = SDPRewriter.rewrite(sdp, targets: targets, removingICE: true, forcingICE: fuzzCredentials)
        guard let again = try? SDPParser.parse(out.bytes), again.media.count == sdp.media.count else {
            fatalError("an SDP with the relay's ICE lines no longer parses the same")
        }
        guard BodyEdit.areDisjoint(out.edits), BodyEdit.apply(out.edits, to: bytes) == out.bytes else {
            fatalError("the ICE edits overlap or do not give the rewritten text")
        }
    }
    _ = STUNMessage.parseBindingRequest(bytes)
    _ = SDPBodyPart.locate(body: bytes, contentType: "multipart/mixed;boundary=b")
    let text = String(decoding: bytes, as: UTF8.self)
    if let list = try? SessionIDList(parsing: text) {
        guard (try? SessionIDList(parsing: list.description)) == list else { fatalError("session ids do not round-trip") }
    }
    _ = try? SwitchboardConfigParser.parse(text, fileName: "fuzz")
    _ = IPAddress(text)
    return 0
}

let fuzzCredentials = ICECredentials(ufrag: "fuzz", password: "fuzzfuzzfuzzfuzzfuzzfuzz")!
