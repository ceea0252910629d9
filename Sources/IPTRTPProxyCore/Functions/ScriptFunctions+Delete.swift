extension ScriptFunctions {
    /// `iptrtpproxy_delete(session_ids)`: deletes every session of the list, grouping consecutive ids
    /// into ranges. A session the plane no longer knows is reported as a warning, not a failure
    /// (it may have expired); only an unreadable list fails.
    public func delete(sessionIDs text: String, selects: inout SelectValues) -> FunctionResult {
        let ids: SessionIDList
        do { ids = try SessionIDList(parsing: text) } catch { return .failure("delete: \(error)") }
        guard let sw = switchboards.named(ids.switchboard) else {
            return .failure("delete: unknown switchboard '\(ids.switchboard)' in session ids '\(text)'")
        }
        return .success(warnings: deleteHandles(sw.name, ids.entries.compactMap { $0 }))
    }
}
