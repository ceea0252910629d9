import IPTRTPProxyCore

/// What the host's message did with a rewrite alloc or update handed it.
enum HostDelivery: Equatable {
    /// The message took it.
    case taken
    /// The message could not take it and is as it was; why, for the call's one log line.
    case refused(String)

    /// A `put` for a host that takes the whole body (`deliver`: true when the message took it).
    static func wholeBody(_ deliver: @escaping ([UInt8]) -> Bool) -> (BodyRewrite) -> HostDelivery {
        { deliver($0.body) ? .taken : .refused("the message did not take the rewritten body") }
    }
}

/// One call of a function that rewrites the message (alloc, update), carried to its end in one
/// place: either the host's message takes the new body and the sessions stay, or the call gives
/// back every session it allocated, the selects return to what they were before it, and the
/// message is left as it was. The host glue only reports whether its message took the rewrite.
struct RewritingCall {
    /// The script function's name, for the log.
    let name: String
    /// The functions of this process.
    let functions: ScriptFunctions
    /// The session ids the call started from (update), whose sessions are not the call's to free;
    /// nil when every session in the result is new (alloc).
    let priorSessionIDs: String?
    /// The largest body the host's message can take.
    var maxBodyLength = Int(HostText.maxLength) - 1

    /// Runs `call`; when it rewrote the SDP, hands the rewrite to `put` (the host's message takes
    /// the whole body or its edits, or refuses, having undone what it took). Returns the script
    /// value, 1 or -1. Logs one line on failure, and one per warning.
    func run(
        selects: inout SelectValues,
        put: (BodyRewrite) -> HostDelivery,
        _ call: (ScriptFunctions, inout SelectValues) -> FunctionResult
    ) -> Int32 {
        let before = selects
        let result = call(functions, &selects)
        return finish(result, before: before, selects: &selects, put: put)
    }

    /// `run` for a host that takes the whole body (`deliver`: true when the message took it).
    func run(
        selects: inout SelectValues,
        deliver: @escaping ([UInt8]) -> Bool,
        _ call: (ScriptFunctions, inout SelectValues) -> FunctionResult
    ) -> Int32 {
        run(selects: &selects, put: HostDelivery.wholeBody(deliver), call)
    }

    /// Carries `result` (a call of this function that already ran, `before` being the selects it
    /// started from) to its end as `run` does.
    func finish(
        _ result: FunctionResult, before: SelectValues, selects: inout SelectValues, put: (BodyRewrite) -> HostDelivery
    ) -> Int32 {
        for warning in result.warnings { HostLog.warning(warning) }
        guard result.succeeded else {
            HostLog.error(result.error ?? "\(name) failed")
            return -1
        }
        guard let body = result.body else { return 1 }
        if body.count > maxBodyLength {
            HostLog.error("\(name): the rewritten body is too large (\(body.count) bytes, at most \(maxBodyLength)); the call is undone")
        } else {
            switch put(BodyRewrite(body: body, edits: result.edits ?? [])) {
            case .taken: return 1
            case .refused(let reason):
                HostLog.error("\(name): \(reason); the message is left as it was and the call is undone")
            }
        }
        rollBack(from: selects)
        selects = before
        return -1
    }

    /// Frees the sessions the call allocated: those in the new `session_ids` that were not in the
    /// ones it started from. (An update's re-pointed sessions keep their new sources, and the ones
    /// it released stay released: neither holds anything the call took.)
    private func rollBack(from after: SelectValues) {
        guard let text = after.sessionIDs else { return }
        do {
            let now = try SessionIDList(parsing: text)
            let prior = try priorSessionIDs.map { try SessionIDList(parsing: $0) }
            let kept = Set(prior?.entries.compactMap { $0 } ?? [])
            let allocated = now.entries.compactMap { $0 }.filter { !kept.contains($0) }
            guard !allocated.isEmpty else { return }
            var scratch = SelectValues()
            let undo = functions.delete(
                sessionIDs: SessionIDList(switchboard: now.switchboard, host: now.host, entries: allocated).description, selects: &scratch)
            for warning in undo.warnings { HostLog.warning("\(name) undo: \(warning)") }
            if !undo.succeeded { HostLog.error("\(name) undo: \(undo.error ?? "delete failed")") }
        } catch {
            HostLog.error("\(name) undo: \(error)")
        }
    }
}
