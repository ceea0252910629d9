import IPTRTPProxyCore

/// The records behind the RPC commands, as ordered key/value pairs.
enum ManagementReport {
    static func sessions() throws -> [[(String, String)]] {
        let state = ModuleState.shared
        guard case .success(let functions) = state.functionsForThisProcess() else {
            throw ModuleConfigError("the media plane is not reachable")
        }
        guard let plane = functions.plane as? InProcessMediaPlane else {
            throw ModuleConfigError("this media plane cannot list sessions")
        }
        var rows: [[(String, String)]] = []
        for sw in functions.switchboards.all.reversed() {
            for record in plane.sessions(of: sw.name) {
                rows.append([("switchboard", sw.name), ("id", "\(record.handle.id)"), ("created", "\(record.handle.created)")])
            }
        }
        return rows
    }

    static func stats() throws -> [[(String, String)]] {
        let state = ModuleState.shared
        guard case .success(let functions) = state.functionsForThisProcess() else {
            throw ModuleConfigError("the media plane is not reachable")
        }
        guard let plane = functions.plane as? InProcessMediaPlane else {
            throw ModuleConfigError("this media plane has no statistics")
        }
        var rows: [[(String, String)]] = []
        for sw in functions.switchboards.all.reversed() {
            rows.append([("switchboard", sw.name), ("sessions", "\(plane.sessions(of: sw.name).count)"),
                         ("max_sessions", "\(sw.maxSessions)")])
        }
        return rows
    }
}
