extension ScriptFunctions {
    /// `iptrtpproxy_adjust_timeout(flags, session_ids)`: sets the learning timeout of the SDP side's
    /// streams (the ringing timeout with flag bit 1, else the side's default), typically lowering it
    /// on 200 OK. Addresses are not touched; `session_ids` is not republished.
    /// `signal` is the source address of the SIP message, as for `alloc`.
    public func adjustTimeout(
        flags: ScriptFlags, sessionIDs text: String, signal: IPAddress? = nil, selects: inout SelectValues
    ) -> FunctionResult {
        let ids: SessionIDList
        do { ids = try SessionIDList(parsing: text) } catch { return .failure("adjust_timeout: \(error)") }
        guard let sw = switchboards.named(ids.switchboard) else {
            return .failure("adjust_timeout: unknown switchboard '\(ids.switchboard)' in session ids '\(text)'")
        }
        var done = Set<Int>()
        for handle in ids.entries.compactMap({ $0 }) where done.insert(handle.id).inserted {
            do {
                try plane.updateSession(switchboard: sw.name, session: handle, request: sourceRequest(sw, flags, media: nil, signal: signal))
            } catch {
                return .failure("adjust_timeout of \(sw.name):\(handle): \(error)")
            }
        }
        return .success()
    }
}
