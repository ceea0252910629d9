import IPTRTPProxyCore

// The five script functions of ipt_mod.h. Each copies what the host passed, runs the core's
// function, logs one line on failure (and one per warning) and returns 1 or -1. alloc and update
// hand the rewrite to the host's sinks (token by token, or the whole body) and undo themselves when
// the message cannot take it (RewritingCall). Nothing here throws or traps on bad input.

/// `ipt_mod_body_sink_t`: puts a rewritten body into the host's message; 0 when it took it.
public typealias HostBodySink = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int32) -> Int32
/// `ipt_mod_edit_sink_t`: replaces `length` bytes at `offset` of the message's original body by
/// `text`; `IPT_MOD_EDIT_OK` (0), `IPT_MOD_EDIT_FAILED` (-1) or `IPT_MOD_EDIT_OVERLAP` (-2).
public typealias HostEditSink = @convention(c) (UnsafeMutableRawPointer?, Int32, Int32, UnsafePointer<CChar>?, Int32) -> Int32
/// `ipt_mod_undo_sink_t`: takes back every edit the edit sink took in this call.
public typealias HostUndoSink = @convention(c) (UnsafeMutableRawPointer?) -> Void

@_cdecl("ipt_mod_alloc")
public func ipt_mod_alloc(
    _ flags: Int32, _ switchboard: UnsafePointer<CChar>?, _ switchboardLength: Int32,
    _ sourceIP: UnsafePointer<UInt8>?, _ sourceIPLength: Int32,
    _ sipMessage: UnsafePointer<CChar>?, _ sipMessageLength: Int32,
    _ body: UnsafePointer<CChar>?, _ bodyLength: Int32,
    _ contentType: UnsafePointer<CChar>?, _ contentTypeLength: Int32,
    _ putBody: HostBodySink?, _ putEdit: HostEditSink?, _ undoEdits: HostUndoSink?, _ context: UnsafeMutableRawPointer?
) -> Int32 {
    guard let sinks = HostSinks(putBody, putEdit, undoEdits, context) else {
        return refuse("alloc", "bad sink arguments (an edit sink needs its undo sink)")
    }
    guard let name = HostText.string(switchboard, switchboardLength) else { return refuse("alloc", "bad switchboard argument") }
    guard let signal = sourceAddress(sourceIP, sourceIPLength) else { return refuse("alloc", "bad source address argument") }
    guard let message = MessageBody(body, bodyLength, contentType, contentTypeLength) else {
        return refuse("alloc", "bad message body")
    }
    let identity = callIdentity(sipMessage, sipMessageLength)
    let call = { (functions: ScriptFunctions, selects: inout SelectValues) in
        functions.alloc(flags: ScriptFlags(Int(flags)), switchboard: name, body: message.bytes,
                        contentType: message.contentType, signal: signal, call: identity, selects: &selects)
    }
    if case .success(.pool(let pool)) = ModuleState.shared.planesForThisProcess() {
        return PoolFunctions.alloc(pool, switchboard: name, selects: &ModuleState.shared.selects,
                                   put: sinks.put, call)
    }
    return rewrite("alloc", priorSessionIDs: nil, sinks, call)
}

@_cdecl("ipt_mod_update")
public func ipt_mod_update(
    _ flags: Int32, _ sessionIDs: UnsafePointer<CChar>?, _ sessionIDsLength: Int32,
    _ sourceIP: UnsafePointer<UInt8>?, _ sourceIPLength: Int32,
    _ sipMessage: UnsafePointer<CChar>?, _ sipMessageLength: Int32,
    _ body: UnsafePointer<CChar>?, _ bodyLength: Int32,
    _ contentType: UnsafePointer<CChar>?, _ contentTypeLength: Int32,
    _ putBody: HostBodySink?, _ putEdit: HostEditSink?, _ undoEdits: HostUndoSink?, _ context: UnsafeMutableRawPointer?
) -> Int32 {
    guard let sinks = HostSinks(putBody, putEdit, undoEdits, context) else {
        return refuse("update", "bad sink arguments (an edit sink needs its undo sink)")
    }
    guard let ids = HostText.string(sessionIDs, sessionIDsLength) else { return refuse("update", "bad session_ids argument") }
    guard let signal = sourceAddress(sourceIP, sourceIPLength) else { return refuse("update", "bad source address argument") }
    guard let message = MessageBody(body, bodyLength, contentType, contentTypeLength) else {
        return refuse("update", "bad message body")
    }
    let identity = callIdentity(sipMessage, sipMessageLength)
    return rewrite("update", priorSessionIDs: ids, sinks) { functions, selects in
        functions.update(flags: ScriptFlags(Int(flags)), sessionIDs: ids, body: message.bytes,
                         contentType: message.contentType, signal: signal, call: identity, selects: &selects)
    }
}

@_cdecl("ipt_mod_adjust_timeout")
public func ipt_mod_adjust_timeout(
    _ flags: Int32, _ sessionIDs: UnsafePointer<CChar>?, _ sessionIDsLength: Int32,
    _ sourceIP: UnsafePointer<UInt8>?, _ sourceIPLength: Int32
) -> Int32 {
    guard let ids = HostText.string(sessionIDs, sessionIDsLength) else {
        return refuse("adjust_timeout", "bad session_ids argument")
    }
    guard let signal = sourceAddress(sourceIP, sourceIPLength) else {
        return refuse("adjust_timeout", "bad source address argument")
    }
    return run("adjust_timeout", sessionIDs: ids) { functions, selects in
        functions.adjustTimeout(flags: ScriptFlags(Int(flags)), sessionIDs: ids, signal: signal, selects: &selects)
    }
}

@_cdecl("ipt_mod_delete")
public func ipt_mod_delete(_ sessionIDs: UnsafePointer<CChar>?, _ sessionIDsLength: Int32) -> Int32 {
    guard let ids = HostText.string(sessionIDs, sessionIDsLength) else { return refuse("delete", "bad session_ids argument") }
    return run("delete", sessionIDs: ids) { functions, selects in
        functions.delete(sessionIDs: ids, selects: &selects)
    }
}

@_cdecl("ipt_mod_find")
public func ipt_mod_find(
    _ gateA: UnsafePointer<CChar>?, _ gateALength: Int32, _ gateB: UnsafePointer<CChar>?, _ gateBLength: Int32
) -> Int32 {
    guard let a = HostText.string(gateA, gateALength), let b = HostText.string(gateB, gateBLength) else {
        return refuse("find", "bad gate argument")
    }
    if case .success(.pool(let pool)) = ModuleState.shared.planesForThisProcess() {
        return PoolFunctions.find(pool, gateA: a, gateB: b, selects: &ModuleState.shared.selects)
    }
    return run("find", sessionIDs: nil) { functions, selects in
        functions.find(gateA: a, gateB: b, selects: &selects)
    }
}

/// The message's source address from its network-order bytes: `.some(nil)` when the host does
/// not know it (NULL or length 0), nil when the pair is not 4 or 16 bytes.
func sourceAddress(_ pointer: UnsafePointer<UInt8>?, _ length: Int32) -> IPAddress?? {
    guard let pointer, length != 0 else { return .some(nil) }
    let bytes = Array(UnsafeBufferPointer(start: pointer, count: Int(max(0, min(length, 16)))))
    switch length {
    case 4: return .some(.v4(bytes.reduce(UInt32(0)) { $0 << 8 | UInt32($1) }))
    case 16: return .some(.v6(IPAddress.IPv6Bytes(bytes: bytes)))
    default: return nil
    }
}

/// The message as the host described it.
struct MessageBody {
    var bytes: [UInt8]
    /// The Content-Type header value; nil when the message has none.
    var contentType: String?

    init?(_ body: UnsafePointer<CChar>?, _ bodyLength: Int32, _ contentType: UnsafePointer<CChar>?, _ contentTypeLength: Int32) {
        guard let bytes = HostText.bytes(body, bodyLength) else { return nil }
        self.bytes = bytes
        if contentType == nil {
            self.contentType = nil
        } else {
            guard let ct = HostText.string(contentType, contentTypeLength) else { return nil }
            self.contentType = ct
        }
    }
}

/// The sinks the host passed to alloc or update: with an edit sink, the rewrite goes in token by
/// token (each edit of the original body in increasing offset order, all taken back through the
/// undo sink when one is refused); without one, the whole new body goes to the body sink.
struct HostSinks {
    let putBody: HostBodySink?
    let putEdit: HostEditSink?
    let undoEdits: HostUndoSink?
    let context: UnsafeMutableRawPointer?

    /// nil when an edit sink comes without its undo sink.
    init?(_ putBody: HostBodySink?, _ putEdit: HostEditSink?, _ undoEdits: HostUndoSink?, _ context: UnsafeMutableRawPointer?) {
        if putEdit != nil && undoEdits == nil { return nil }
        (self.putBody, self.putEdit, self.undoEdits, self.context) = (putBody, putEdit, undoEdits, context)
    }

    /// Hands `rewrite` to the host's message.
    func put(_ rewrite: BodyRewrite) -> HostDelivery {
        guard let putEdit, let undoEdits else {
            guard let putBody else { return .refused("the host gave no sink for the rewritten body") }
            let taken = rewrite.body.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) { putBody(context, $0.baseAddress, Int32(bytes.count)) == 0 }
            }
            return taken ? .taken : .refused("the message did not take the rewritten body")
        }
        for edit in rewrite.edits {
            let status = edit.replacement.withUnsafeBufferPointer { bytes in
                bytes.withMemoryRebound(to: CChar.self) {
                    putEdit(context, Int32(edit.offset), Int32(edit.length), $0.baseAddress, Int32(bytes.count))
                }
            }
            if status == 0 { continue }
            undoEdits(context)
            let bytes = "body bytes \(edit.offset)-\(edit.offset + edit.length)"
            if status == -2 {
                return .refused("another change of the message body (a body lump of another function, or an earlier alloc or update of this message) covers \(bytes), which the SDP rewrite changes")
            }
            return .refused("the message could not take the change of \(bytes) (out of private memory?)")
        }
        return .taken
    }
}

/// Runs alloc or update with this process's functions and selects (update: on the media host the
/// session ids name); the host's sinks take the rewrite.
private func rewrite(
    _ name: String, priorSessionIDs: String?, _ sinks: HostSinks,
    _ call: @escaping (ScriptFunctions, inout SelectValues) -> FunctionResult
) -> Int32 {
    let state = ModuleState.shared
    let put = sinks.put
    switch state.planesForThisProcess() {
    case .failure(let e):
        return refuse(name, e.description)
    case .success(.single(let functions)):
        let rewriting = RewritingCall(name: name, functions: functions, priorSessionIDs: priorSessionIDs)
        return rewriting.run(selects: &state.selects, put: put, call)
    case .success(.pool(let pool)):
        return PoolFunctions.onHolder(pool, name, sessionIDs: priorSessionIDs ?? "") { functions in
            let rewriting = RewritingCall(name: name, functions: functions, priorSessionIDs: priorSessionIDs)
            return rewriting.run(selects: &state.selects, put: put, call)
        }
    }
}

/// Runs a function that leaves the body alone with this process's functions and selects (on the
/// media host that `sessionIDs` name, when there is a pool).
private func run(_ name: String, sessionIDs: String?, _ call: @escaping (ScriptFunctions, inout SelectValues) -> FunctionResult) -> Int32 {
    let state = ModuleState.shared
    let finish = { (functions: ScriptFunctions) -> Int32 in
        let result = call(functions, &state.selects)
        for warning in result.warnings { HostLog.warning(warning) }
        guard result.succeeded else {
            HostLog.error(result.error ?? "\(name) failed")
            return -1
        }
        return 1
    }
    switch state.planesForThisProcess() {
    case .failure(let e): return refuse(name, e.description)
    case .success(.single(let functions)): return finish(functions)
    case .success(.pool(let pool)):
        return PoolFunctions.onHolder(pool, name, sessionIDs: sessionIDs ?? "", finish)
    }
}

/// Logs why a call was refused before reaching the core and returns -1.
private func refuse(_ name: String, _ reason: String) -> Int32 {
    HostLog.error("\(name): \(reason)")
    return -1
}

/// The Call-ID and From tag of the whole SIP message the host passed (nil/0: none), for the
/// relay's reports; a message without a readable Call-ID names no call.
func callIdentity(_ message: UnsafePointer<CChar>?, _ length: Int32) -> CallIdentity? {
    guard let message, length > 0 else { return nil }
    let bytes = UnsafeRawBufferPointer(start: message, count: Int(min(length, 65536)))
    return CallIdentity.parse(sipMessage: Array(bytes))
}
