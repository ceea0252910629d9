import Glibc
import IPTRTPProxyClient
import IPTRTPProxyCore
import IPTRTPProxyTLS

/// The media hosts of this proxy (the `relay` modparams naming external relays) as one process
/// uses them: its own control client per host, the switchboards each host declared (learned from
/// its `info` when first needed and again whenever the host comes back), the shared health table
/// that every process of the proxy reads and writes, and the choice of a host for a new call.
///
/// Made in module init (main process) with the shared table; the clients are made on first use
/// in each process after the fork (a socket or TLS state is never shared by two processes).
final class RelayPool {
    /// The modparams (hosts, secrets, TLS files, timeout, `switchboard` lines).
    let configuration: ModuleConfiguration
    /// The hosts, in modparam order.
    let endpoints: [RelayEndpoint]
    /// Health and counters shared by every process of the proxy.
    let table: SharedRelayTable
    /// True when session ids carry the host (`pub@m2:...`): more than one host.
    let tagsIDs: Bool

    /// This process's side of one host.
    final class Host {
        let plane: WatchedPlane
        /// The host's switchboards (with the modparams applied) as functions over its plane, and
        /// the health generation under which they were learned.
        var learned: (generation: UInt64, functions: ScriptFunctions)?
        init(plane: WatchedPlane) { self.plane = plane }
    }

    /// The longest reply a process of the proxy takes from a media host.
    static let maxReplyLength = 16 << 20

    private var hosts: [Host] = []
    private var hostsPID: Int32 = 0

    init(configuration: ModuleConfiguration, table: SharedRelayTable) {
        self.configuration = configuration
        endpoints = configuration.relays
        self.table = table
        tagsIDs = configuration.relays.count > 1
    }

    /// `m2 (tcp:10.0.0.5:7722)`.
    func name(_ i: Int) -> String { "media host \(endpoints[i].id) (\(endpoints[i].address))" }

    // MARK: This process's clients

    /// This process's side of host `i`, made on first use after the fork.
    func host(_ i: Int) throws -> Host {
        if hostsPID != getpid() {
            hosts = try makeHosts()
            hostsPID = getpid()
        }
        return hosts[i]
    }

    private func makeHosts() throws -> [Host] {
        try makeClients().map { Host(plane: WatchedPlane(client: $0)) }
    }

    /// A new control client per host, in modparam order (made after the fork).
    func makeClients() throws -> [RelayControlClient] {
        // One TLS context for every tls: host, made here, after the fork (OpenSSL state is per process).
        var tls: TLSContext?
        if endpoints.contains(where: { $0.address.isTLS }) {
            let files = configuration.relayTLSFiles
            guard let ca = files.ca else { throw ModuleConfigError("tls: relays need modparam relay_tls_ca") }
            do {
                tls = try TLSContext.client(caFile: ca, certificateFile: files.certificate, keyFile: files.key)
            } catch {
                throw ModuleConfigError("relay TLS files: \(error)")
            }
        }
        return endpoints.map { e in
            let client = RelayControlClient(
                address: e.address, secret: configuration.secret(for: e), timeout: configuration.relayTimeout,
                tls: e.address.isTLS ? tls : nil)
            // What a worker reads from a host is bounded: a lying host cannot make it take
            // hundreds of megabytes (a `list` of 32,767 sessions is a few).
            client.maxReplyLength = RelayPool.maxReplyLength
            // iptrtpproxy_delete does not wait for the host: its refusals are logged as they come.
            client.lateRefusal = { HostLog.warning($0) }
            return client
        }
    }

    // MARK: Health

    /// Why host `i` is not to be asked now, or nil when it may be.
    func unavailability(_ i: Int) -> String? {
        guard table.health(i) == .down else { return nil }
        let reason = table.lastError(i).map { ": \($0)" } ?? ""
        return "\(name(i)) is down since \(ReportTime.text(table.since(i)))\(reason)"
    }

    /// Host `i` failed (`error`): marks it down for every process, once with a log line.
    func hostFailed(_ i: Int, _ error: MediaPlaneError) {
        if table.markDown(i, reason: error.message) {
            HostLog.error("\(name(i)) is down: \(error.message); no call waits on it until it answers a probe again")
        }
    }

    // MARK: Switchboards

    /// The five functions over host `i`, with its switchboards learned under its current
    /// generation; asks its `info` when this process has not (or the host came back since).
    /// With them, the plane they run on, which says whether a failed call failed for the host.
    /// A failure's message starts with the host's name.
    func functions(_ i: Int) -> Result<(functions: ScriptFunctions, plane: WatchedPlane), MediaPlaneError> {
        if let down = unavailability(i) { return .failure(MediaPlaneError(down, planeUnavailable: true)) }
        let h: Host
        do { h = try host(i) } catch { return .failure(MediaPlaneError("\(name(i)): \(error)")) }
        let generation = table.generation(i)
        if let learned = h.learned, learned.generation == generation { return .success((learned.functions, h.plane)) }
        h.plane.reset()
        do {
            let info = try h.plane.info()
            let declared = SwitchboardSet(info.switchboards.map(\.switchboard))  // the relay lists them in walk order
            let functions = ScriptFunctions(
                switchboards: configuration.applyParams(to: declared).switchboards, plane: h.plane,
                host: tagsIDs ? endpoints[i].id : nil)
            h.learned = (generation, functions)
            return .success((functions, h.plane))
        } catch let e as MediaPlaneError {
            if e.planeUnavailable { hostFailed(i, e) }
            return .failure(MediaPlaneError("\(name(i)): \(e.message)", planeUnavailable: e.planeUnavailable))
        } catch {
            return .failure(MediaPlaneError("\(name(i)): \(error)", planeUnavailable: true))
        }
    }

    /// The hosts an alloc on `switchboard` may use, best first by weight, and why the others
    /// may not (one entry per host).
    func candidates(for switchboard: String) -> (order: [Int], excluded: [String]) {
        var live: [WeightedChoice.Candidate] = []
        var excluded: [String] = []
        for i in endpoints.indices {
            switch functions(i) {
            case .failure(let e):
                excluded.append(e.message)
            case .success(let host):
                if host.functions.switchboards.named(switchboard) != nil {
                    live.append(.init(host: i, weight: endpoints[i].weight, assigned: table.assigned(i)))
                } else {
                    excluded.append("\(name(i)) declares no switchboard '\(switchboard)'")
                }
            }
        }
        return (WeightedChoice.order(live), excluded)
    }

    /// The host that holds the sessions of `ids`: the one its host part names, or for ids without
    /// one (a proxy that had one relay), the first host in modparam order that declares the
    /// switchboard.
    func holder(of ids: SessionIDList) -> Result<Int, MediaPlaneError> {
        if let tag = ids.host {
            guard let i = endpoints.firstIndex(where: { $0.id == tag }) else {
                return .failure(MediaPlaneError("session ids '\(ids)' name media host '\(tag)', which no relay modparam has"))
            }
            return .success(i)
        }
        if endpoints.count == 1 { return .success(0) }
        var reasons: [String] = []
        for i in endpoints.indices {
            switch functions(i) {
            case .success(let host) where host.functions.switchboards.named(ids.switchboard) != nil: return .success(i)
            case .success: continue
            case .failure(let e): reasons.append(e.message)
            }
        }
        let why = reasons.isEmpty ? "" : " (\(reasons.joined(separator: "; ")))"
        return .failure(MediaPlaneError("session ids '\(ids)' name no media host, and no host declares switchboard '\(ids.switchboard)'\(why)"))
    }
}

/// Times in reports and log lines, in UTC, without Foundation.
enum ReportTime {
    /// `2026-12-02 01:02:03 UTC`.
    static func text(_ secondsSinceEpoch: UInt64) -> String {
        var t = time_t(clamping: secondsSinceEpoch)
        var parts = tm()
        guard gmtime_r(&t, &parts) != nil else { return "\(secondsSinceEpoch)" }
        func two(_ v: Int32) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday)) "
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)) UTC"
    }
}
