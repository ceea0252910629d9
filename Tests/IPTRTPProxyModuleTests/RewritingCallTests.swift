import IPTRTPProxyCore
import Testing
@testable import IPTRTPProxyModule

/// `pub`: gate A 192.0.2.10:40000, gate B 198.51.100.10:41000.
private let switchboards = SwitchboardSet([Switchboard(
    name: "pub",
    gateA: Gate(address: IPAddress("192.0.2.10")!, basePort: 40000),
    gateB: Gate(address: IPAddress("198.51.100.10")!, basePort: 41000))])

/// SDP text with CRLF line endings, written with LF for readability.
private func crlf(_ text: String) -> [UInt8] {
    Array(text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n").utf8)
}

/// A caller's offer: audio only.
private let audioOffer = crlf("""
    v=0
    o=alice 1 1 IN IP4 203.0.113.2
    s=-
    c=IN IP4 203.0.113.2
    t=0 0
    m=audio 4000 RTP/AVP 0

    """)

/// The same caller adds video on another port (a re-INVITE).
private let audioVideoOffer = crlf("""
    v=0
    o=alice 1 2 IN IP4 203.0.113.2
    s=-
    c=IN IP4 203.0.113.2
    t=0 0
    m=audio 4000 RTP/AVP 0
    m=video 4002 RTP/AVP 31

    """)

/// Functions over an in-process plane whose live sessions the tests can count.
private func functionsOverPlane() -> (ScriptFunctions, InProcessMediaPlane) {
    let plane = InProcessMediaPlane(switchboards: switchboards, clock: { 1000 })
    return (ScriptFunctions(switchboards: switchboards, plane: plane), plane)
}

@Suite("alloc and update own their outcome: the message takes the body, or the call is undone", .serialized)
struct RewritingCallTests {
    @Test("alloc whose body the message takes: 1, the sessions stay, the sink got the rewritten SDP")
    func allocDelivered() {
        let (functions, plane) = functionsOverPlane()
        var selects = SelectValues()
        var delivered: [[UInt8]] = []
        let call = RewritingCall(name: "alloc", functions: functions, priorSessionIDs: nil)
        let value = call.run(selects: &selects, deliver: { delivered.append($0); return true }) { f, s in
            f.alloc(flags: ScriptFlags(1), switchboard: "pub", body: audioVideoOffer, contentType: "application/sdp", selects: &s)
        }
        #expect(value == 1)
        #expect(plane.sessions(of: "pub").count == 2)
        #expect(delivered.count == 1)
        #expect(String(decoding: delivered.first ?? [], as: UTF8.self).contains("c=IN IP4 198.51.100.10\r\n"))
        #expect(selects.sessionIDs != nil)
    }

    @Test("alloc whose body the message refuses: -1, every session it allocated is freed, the selects are as before")
    func allocRefusedByMessage() {
        let (functions, plane) = functionsOverPlane()
        var selects = SelectValues(switchboard: "pub", direction: 1)
        let before = selects
        var offered = 0
        let call = RewritingCall(name: "alloc", functions: functions, priorSessionIDs: nil)
        let value = call.run(selects: &selects, deliver: { _ in offered += 1; return false }) { f, s in
            f.alloc(flags: ScriptFlags(1), switchboard: "", body: audioVideoOffer, contentType: "application/sdp", selects: &s)
        }
        #expect(value == -1)
        #expect(offered == 1)
        #expect(plane.sessions(of: "pub").isEmpty)
        #expect(selects == before)
    }

    @Test("alloc whose rewritten body is larger than the host takes: -1, no session left, the message never offered the body")
    func allocOversizeBody() {
        let (functions, plane) = functionsOverPlane()
        var selects = SelectValues()
        var offered = 0
        var call = RewritingCall(name: "alloc", functions: functions, priorSessionIDs: nil)
        call.maxBodyLength = audioVideoOffer.count  // the rewrite makes it longer (41000 > 4000, a longer address)
        let value = call.run(selects: &selects, deliver: { _ in offered += 1; return true }) { f, s in
            f.alloc(flags: ScriptFlags(1), switchboard: "pub", body: audioVideoOffer, contentType: "application/sdp", selects: &s)
        }
        #expect(value == -1)
        #expect(offered == 0)
        #expect(plane.sessions(of: "pub").isEmpty)
        #expect(selects == SelectValues())
    }

    @Test("update that added media, refused by the message: only the new session is freed, the call's own stays")
    func updateRefusedFreesOnlyNewSessions() throws {
        let (functions, plane) = functionsOverPlane()
        var selects = SelectValues()
        let first = RewritingCall(name: "alloc", functions: functions, priorSessionIDs: nil)
        #expect(first.run(selects: &selects, deliver: { _ in true }) { f, s in
            f.alloc(flags: ScriptFlags(1), switchboard: "pub", body: audioOffer, contentType: "application/sdp", selects: &s)
        } == 1)
        let ids = try #require(selects.sessionIDs)
        let kept = plane.sessions(of: "pub").map(\.handle)
        #expect(kept.count == 1)

        let update = RewritingCall(name: "update", functions: functions, priorSessionIDs: ids)
        let value = update.run(selects: &selects, deliver: { _ in false }) { f, s in
            f.update(flags: ScriptFlags(1), sessionIDs: ids, body: audioVideoOffer, contentType: "application/sdp", selects: &s)
        }
        #expect(value == -1)
        #expect(plane.sessions(of: "pub").map(\.handle) == kept)
        #expect(selects.sessionIDs == ids)
    }

    @Test("the selects through the C entry: after the reset sdp_ip is the empty string (spec §4), the others have no value")
    func selectsAfterReset() {
        let state = ModuleState.shared
        let saved = state.selects
        defer { state.selects = saved }
        func read(_ which: Int32) -> String? {
            var value: UnsafePointer<CChar>?
            var length: Int32 = -1
            guard ipt_mod_get_select(which, &value, &length) == 1 else { return nil }
            return HostText.string(value, length)
        }
        state.selects = SelectValues(sessionIDs: "pub:0/1", sdpIP: "203.0.113.2", switchboard: "pub", direction: 1)
        #expect(read(1) == "203.0.113.2")
        ipt_mod_reset_selects()
        #expect(read(1) == "")
        #expect(read(0) == nil && read(2) == nil && read(3) == nil)
    }

    @Test("ipt_mod_alloc, the C entry: a sink that refuses, and a body over HostText.maxLength, leave no session allocated")
    func cEntryLeavesNothingAllocated() throws {
        let (functions, plane) = functionsOverPlane()
        let state = ModuleState.shared
        let saved = (state.switchboards, state.functions, state.selects)
        defer { (state.switchboards, state.functions, state.selects) = saved }
        state.switchboards = switchboards
        state.functions = functions
        state.selects = SelectValues()

        let refuse: HostBodySink = { context, _, _ in
            context?.assumingMemoryBound(to: Int.self).pointee += 1
            return -1
        }
        let accept: HostBodySink = { context, _, _ in
            context?.assumingMemoryBound(to: Int.self).pointee += 1
            return 0
        }
        func alloc(_ body: [UInt8], _ sink: HostBodySink, _ calls: inout Int) -> Int32 {
            let contentType = "application/sdp"
            return body.withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { chars in
                    contentType.withCString { ct in
                        withUnsafeMutablePointer(to: &calls) { counter in
                            ipt_mod_alloc(1, "pub", 3, nil, 0, nil, 0, chars.baseAddress, Int32(chars.count), ct, Int32(contentType.utf8.count),
                                          sink, nil, nil, UnsafeMutableRawPointer(counter))
                        }
                    }
                }
            }
        }

        var calls = 0
        #expect(alloc(audioVideoOffer, refuse, &calls) == -1)
        #expect(calls == 1)
        #expect(plane.sessions(of: "pub").isEmpty)

        // As large as the host may pass; the rewrite (longer address and ports) makes it too large.
        let head = Array(audioVideoOffer.dropLast(2)) + Array("a=x-padding:".utf8)
        let padded = head + Array(repeating: UInt8(ascii: "x"), count: Int(HostText.maxLength) - head.count - 2) + crlf("\n")
        #expect(padded.count == Int(HostText.maxLength))
        calls = 0
        #expect(alloc(padded, accept, &calls) == -1)
        #expect(calls == 0)
        #expect(plane.sessions(of: "pub").isEmpty)

        // The same entry with a sink that takes the body keeps the sessions: the checks above can fail.
        #expect(alloc(audioVideoOffer, accept, &calls) == 1)
        #expect(calls == 1)
        #expect(plane.sessions(of: "pub").count == 2)
    }

    /// What the edit sinks of the test below saw: the edits taken, undo calls, and when to refuse.
    final class EditRecorder {
        var original: [UInt8] = []
        var taken: [(Int, Int, [UInt8])] = []
        var undone = 0
        var refuseAt: Int?
        var refusal: Int32 = -2
    }

    @Test("ipt_mod_alloc with an edit sink: one edit per token in offset order that make the new body; a refused edit undoes all and leaves no session")
    func cEntryEdits() throws {
        let (functions, plane) = functionsOverPlane()
        let state = ModuleState.shared
        let saved = (state.switchboards, state.functions, state.selects)
        defer { (state.switchboards, state.functions, state.selects) = saved }
        state.switchboards = switchboards
        state.functions = functions
        state.selects = SelectValues()

        let put: HostEditSink = { context, offset, length, text, textLength in
            let r = Unmanaged<EditRecorder>.fromOpaque(context!).takeUnretainedValue()
            if let at = r.refuseAt, r.taken.count == at { return r.refusal }
            let bytes = text.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(textLength))) } ?? []
            r.taken.append((Int(offset), Int(length), bytes))
            return 0
        }
        let undo: HostUndoSink = { context in
            let r = Unmanaged<EditRecorder>.fromOpaque(context!).takeUnretainedValue()
            r.undone += 1
            r.taken = []
        }
        func alloc(_ r: EditRecorder, _ undoSink: HostUndoSink?) -> Int32 {
            let contentType = "application/sdp"
            return r.original.withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { chars in
                    ipt_mod_alloc(1, "pub", 3, nil, 0, nil, 0, chars.baseAddress, Int32(chars.count), contentType, Int32(contentType.utf8.count),
                                  nil, put, undoSink, Unmanaged.passUnretained(r).toOpaque())
                }
            }
        }

        let r = EditRecorder()
        r.original = audioVideoOffer
        #expect(alloc(r, undo) == 1)
        #expect(r.undone == 0)
        #expect(plane.sessions(of: "pub").count == 2)
        let edits = r.taken.map { BodyEdit(offset: $0.0, length: $0.1, replacement: $0.2) }
        #expect(edits.count == 3) // c= address, two m= ports
        #expect(edits.map(\.offset) == edits.map(\.offset).sorted())
        let rewritten = String(decoding: BodyEdit.apply(edits, to: audioVideoOffer), as: UTF8.self)
        #expect(rewritten.contains("c=IN IP4 198.51.100.10\r\n"))
        #expect(rewritten.contains("m=audio 41000 RTP/AVP 0\r\n") || rewritten.contains("m=audio 4100"))
        for ids in [state.selects.sessionIDs].compactMap({ $0 }) {
            var scratch = SelectValues()
            _ = functions.delete(sessionIDs: ids, selects: &scratch)
        }
        #expect(plane.sessions(of: "pub").isEmpty)

        // Another function's lump over the second token: everything taken back, nothing allocated.
        for refusal: Int32 in [-2, -1] {
            let refused = EditRecorder()
            refused.original = audioVideoOffer
            refused.refuseAt = 1
            refused.refusal = refusal
            state.selects = SelectValues()
            #expect(alloc(refused, undo) == -1)
            #expect(refused.undone == 1)
            #expect(refused.taken.isEmpty)
            #expect(plane.sessions(of: "pub").isEmpty)
            #expect(state.selects.sessionIDs == nil)
        }

        // An edit sink without its undo sink is refused before anything is allocated.
        let lone = EditRecorder()
        lone.original = audioVideoOffer
        #expect(alloc(lone, nil) == -1)
        #expect(lone.taken.isEmpty)
        #expect(plane.sessions(of: "pub").isEmpty)
    }
}
