extension ScriptFunctions {
    /// `iptrtpproxy_delete(session_ids)`: deletes every session of the list, grouping consecutive ids
    /// into ranges. A session the plane no longer knows is reported as a warning, not a failure
    /// (it may have expired); only an unreadable list fails. As the result does not depend on the
    /// plane's answer, the deletes do not wait for it (a relay's refusal is logged when its reply
    /// is read, with the worker's next request): the BYE goes on at once, and the relay does not
    /// wake a worker for an answer nobody needs.
    public func delete(sessionIDs text: String, selects: inout SelectValues) -> FunctionResult {
        let ids: SessionIDList
        do { ids = try SessionIDList(parsing: text) } catch { return .failure("delete: \(error)") }
        guard let sw = switchboards.named(ids.switchboard) else {
            return .failure("delete: unknown switchboard '\(ids.switchboard)' in session ids '\(text)'")
        }
        return .success(warnings: deleteHandles(sw.name, ids.entries.compactMap { $0 }, waiting: false))
    }
}
