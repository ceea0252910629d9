import IPTRTPProxyCore

/// The five script functions over the pool of media hosts. An alloc picks a live host by weight
/// and, when that host fails inside the call, marks it down for every process and tries the next
/// one, within the same function call; update, adjust_timeout and delete go to the host the
/// session ids name; find looks at every host's gates. Each returns 1 or -1 and logs one line on
/// failure, as the single-relay functions do.
enum PoolFunctions {
    /// `iptrtpproxy_alloc` over the pool. `call` runs the core's alloc with one host's functions.
    /// A host that fails is marked down and the next one tried; a host that refuses the
    /// allocation (full) is skipped for this call. One log line when no host took the call.
    static func alloc(
        _ pool: RelayPool, switchboard requested: String, selects: inout SelectValues,
        put: (BodyRewrite) -> HostDelivery, _ call: (ScriptFunctions, inout SelectValues) -> FunctionResult
    ) -> Int32 {
        guard let name = requested.isEmpty ? selects.switchboard : requested else {
            HostLog.error("alloc: no switchboard given and iptrtpproxy_find matched none in this run")
            return -1
        }
        let (order, excluded) = pool.candidates(for: name)
        var failures = excluded
        let before = selects
        for i in order {
            guard case .success(let (functions, plane)) = pool.functions(i) else { continue }
            plane.reset()
            pool.table.reserve(i)
            selects = before
            let result = call(functions, &selects)
            if !result.succeeded, let failure = plane.failure {
                // The host failed, not the request: the next host gets the call.
                pool.table.unreserve(i)
                pool.hostFailed(i, failure)
                failures.append("\(pool.name(i)): \(failure.message)")
                HostLog.warning("alloc on '\(name)': \(pool.name(i)) failed (\(failure.message)); the call goes to the next host")
                continue
            }
            if !result.succeeded, let refusal = plane.refusedAllocation {
                // The host works but would not take this call (full, say): the next host may.
                // No line per host: a stranger's SDP can make every host refuse.
                pool.table.unreserve(i)
                failures.append("\(pool.name(i)): \(refusal.message)")
                continue
            }
            if result.succeeded { pool.table.countAllocation(i) } else { pool.table.unreserve(i) }
            let rewriting = RewritingCall(name: "alloc", functions: functions, priorSessionIDs: nil)
            return rewriting.finish(result, before: before, selects: &selects, put: put)
        }
        selects = before
        HostLog.error("alloc on '\(name)': no media host could take the call (\(failures.joined(separator: "; ")))")
        return -1
    }

    /// A function on the sessions of `ids` (update, adjust_timeout, delete), run on the host that
    /// holds them; a host that is down fails it at once.
    static func onHolder(
        _ pool: RelayPool, _ name: String, sessionIDs text: String, _ run: (ScriptFunctions) -> Int32
    ) -> Int32 {
        let ids: SessionIDList
        do { ids = try SessionIDList(parsing: text) } catch {
            HostLog.error("\(name): \(error)")
            return -1
        }
        let i: Int
        switch pool.holder(of: ids) {
        case .success(let h): i = h
        case .failure(let reason):
            HostLog.error("\(name): \(reason.message)")
            return -1
        }
        let functions: ScriptFunctions, plane: WatchedPlane
        switch pool.functions(i) {
        case .success(let host): (functions, plane) = host
        case .failure(let e):
            HostLog.error("\(name) of '\(text)': \(e.message)")
            return -1
        }
        plane.reset()
        let status = run(functions)
        if let failure = plane.failure { pool.hostFailed(i, failure) }
        return status
    }

    /// `iptrtpproxy_find` over every host's switchboards, hosts in modparam order.
    static func find(_ pool: RelayPool, gateA: String, gateB: String, selects: inout SelectValues) -> Int32 {
        var unknown: [String] = []
        var asked = 0
        for i in pool.endpoints.indices {
            switch pool.functions(i) {
            case .success(let host):
                asked += 1
                if host.functions.find(gateA: gateA, gateB: gateB, selects: &selects).succeeded { return 1 }
            case .failure(let e):
                unknown.append(e.message)
            }
        }
        selects.switchboard = nil
        selects.direction = nil
        let why = unknown.isEmpty ? "" : " (\(unknown.joined(separator: "; ")))"
        HostLog.error("find: no switchboard of \(asked == 0 ? "any" : "the \(asked) answering") media host(s) joins \(gateA) and \(gateB)\(why)")
        return -1
    }
}
