import IPTRTPProxyClient
import IPTRTPProxyCore

/// The text behind the RPC commands: the relays' own reports, as the CLI prints them, and the
/// media hosts' health.
enum ManagementReport {
    /// One line per live session (`iptrtpproxy.list`); with several media hosts, each host's
    /// sessions under a heading line.
    static func sessions(_ state: ModuleState) throws -> String {
        try perRelay(state) { try $0.list().text(detailed: false) }
    }

    /// Relay-wide counters (`iptrtpproxy.stats`); with several media hosts, each host's.
    static func stats(_ state: ModuleState) throws -> String {
        try perRelay(state) { try $0.stats().text }
    }

    /// One line per media host (`iptrtpproxy.relays`): id, address, weight, health and since when,
    /// live sessions at the last probe, calls given to it by this proxy, times it went down, and
    /// its last error.
    static func relays(_ state: ModuleState) throws -> String {
        guard let pool = state.pool else {
            throw ModuleConfigError("iptrtpproxy.relays lists external relays; this proxy's relay is \(state.configuration.plane)")
        }
        return pool.endpoints.indices.map { i in
            let e = pool.endpoints[i], t = pool.table
            let sessions = t.sessions(i).map(String.init) ?? "-"
            let error = t.lastError(i).map { "\"\($0)\"" } ?? "-"
            return "\(e.id) \(e.address) weight=\(e.weight) state=\(t.health(i).word) since=\"\(ReportTime.text(t.since(i)))\" "
                + "sessions=\(sessions) allocated=\(t.allocations(i)) failures=\(t.failures(i)) last-error=\(error)"
        }.joined(separator: "\n")
    }

    /// `report` of the embedded relay, or of every media host that is not down.
    private static func perRelay(_ state: ModuleState, _ report: (RelayControlClient) throws -> String) throws -> String {
        if case .xt = state.configuration.plane {
            throw ModuleConfigError("relay xt keeps its sessions in the kernel: use 'iptrtpproxy list' of the xt tools")
        }
        guard let pool = state.pool else {
            switch state.embeddedClient() {
            case .success(let c): return try report(c)
            case .failure(let e): throw e
            }
        }
        if pool.endpoints.count == 1 {
            if let down = pool.unavailability(0) { throw ModuleConfigError(down) }
            return try report(try pool.host(0).plane.client)
        }
        var sections: [String] = []
        var answered = 0
        for i in pool.endpoints.indices {
            if let down = pool.unavailability(i) {
                sections.append("== \(down)")
                continue
            }
            do {
                sections.append("== \(pool.name(i)):\n" + (try report(try pool.host(i).plane.client)))
                answered += 1
            } catch {
                sections.append("== \(pool.name(i)): \(error)")
            }
        }
        guard answered > 0 else { throw ModuleConfigError(sections.joined(separator: "\n")) }
        return sections.joined(separator: "\n")
    }
}
