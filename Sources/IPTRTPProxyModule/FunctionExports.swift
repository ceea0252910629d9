import IPTRTPProxyCore

// The five script functions of ipt_mod.h. Each copies what the host passed, runs the core's
// function, logs one line on failure (and one per warning), hands the new body back, and returns
// 1 or -1. Nothing here throws or traps on bad input.

@_cdecl("ipt_mod_alloc")
public func ipt_mod_alloc(
    _ flags: Int32, _ switchboard: UnsafePointer<CChar>?, _ switchboardLength: Int32,
    _ body: UnsafePointer<CChar>?, _ bodyLength: Int32,
    _ contentType: UnsafePointer<CChar>?, _ contentTypeLength: Int32,
    _ newBody: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ newLength: UnsafeMutablePointer<Int32>?
) -> Int32 {
    newBody?.pointee = nil
    guard let name = HostText.string(switchboard, switchboardLength) else { return refuse("alloc", "bad switchboard argument") }
    guard let message = MessageBody(body, bodyLength, contentType, contentTypeLength) else {
        return refuse("alloc", "bad message body")
    }
    return run("alloc", newBody, newLength) { functions, selects in
        functions.alloc(flags: ScriptFlags(Int(flags)), switchboard: name, body: message.bytes,
                        contentType: message.contentType, selects: &selects)
    }
}

@_cdecl("ipt_mod_update")
public func ipt_mod_update(
    _ flags: Int32, _ sessionIDs: UnsafePointer<CChar>?, _ sessionIDsLength: Int32,
    _ body: UnsafePointer<CChar>?, _ bodyLength: Int32,
    _ contentType: UnsafePointer<CChar>?, _ contentTypeLength: Int32,
    _ newBody: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ newLength: UnsafeMutablePointer<Int32>?
) -> Int32 {
    newBody?.pointee = nil
    guard let ids = HostText.string(sessionIDs, sessionIDsLength) else { return refuse("update", "bad session_ids argument") }
    guard let message = MessageBody(body, bodyLength, contentType, contentTypeLength) else {
        return refuse("update", "bad message body")
    }
    return run("update", newBody, newLength) { functions, selects in
        functions.update(flags: ScriptFlags(Int(flags)), sessionIDs: ids, body: message.bytes,
                         contentType: message.contentType, selects: &selects)
    }
}

@_cdecl("ipt_mod_adjust_timeout")
public func ipt_mod_adjust_timeout(_ flags: Int32, _ sessionIDs: UnsafePointer<CChar>?, _ sessionIDsLength: Int32) -> Int32 {
    guard let ids = HostText.string(sessionIDs, sessionIDsLength) else {
        return refuse("adjust_timeout", "bad session_ids argument")
    }
    return run("adjust_timeout", nil, nil) { functions, selects in
        functions.adjustTimeout(flags: ScriptFlags(Int(flags)), sessionIDs: ids, selects: &selects)
    }
}

@_cdecl("ipt_mod_delete")
public func ipt_mod_delete(_ sessionIDs: UnsafePointer<CChar>?, _ sessionIDsLength: Int32) -> Int32 {
    guard let ids = HostText.string(sessionIDs, sessionIDsLength) else { return refuse("delete", "bad session_ids argument") }
    return run("delete", nil, nil) { functions, selects in
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
    return run("find", nil, nil) { functions, selects in
        functions.find(gateA: a, gateB: b, selects: &selects)
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

/// Runs one function with this process's functions and selects, and reports its result.
private func run(
    _ name: String,
    _ newBody: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ newLength: UnsafeMutablePointer<Int32>?,
    _ call: (ScriptFunctions, inout SelectValues) -> FunctionResult
) -> Int32 {
    let state = ModuleState.shared
    let functions: ScriptFunctions
    switch state.functionsForThisProcess() {
    case .success(let f): functions = f
    case .failure(let e): return refuse(name, e.description)
    }
    let result = call(functions, &state.selects)
    for warning in result.warnings { HostLog.warning(warning) }
    if !result.succeeded {
        HostLog.error(result.error ?? "\(name) failed")
        return -1
    }
    if let body = result.body, let newBody, let newLength {
        guard body.count < Int(HostText.maxLength) else {
            HostLog.error("\(name): the rewritten body is too large (\(body.count) bytes)")
            return -1
        }
        newBody.pointee = state.bodyOut.fill(body)
        newLength.pointee = Int32(state.bodyOut.count)
    }
    return 1
}

/// Logs why a call was refused before reaching the core and returns -1.
private func refuse(_ name: String, _ reason: String) -> Int32 {
    HostLog.error("\(name): \(reason)")
    return -1
}
