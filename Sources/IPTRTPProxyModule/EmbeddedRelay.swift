import Glibc
import IPTRTPProxyCore
import Logging
import RTPRelay

/// The embedded relay: the relay engine, its control server and (with `relay_metrics`) its metrics
/// endpoint, run in the helper process the supervisor forks for it (Supervisor/). Nothing here runs
/// before that fork, so the proxy's own processes never start a thread.
enum EmbeddedRelay {
    /// The journal's file name in the host's runtime folder, where it goes unless `relay_journal`
    /// moves it: one per runtime folder (not per main process), so that a restarted proxy finds it.
    static let journalFileName = "iptrtpproxy.journal"

    /// The control socket in the host's runtime folder: private to the proxy (mode 0660, the
    /// folder's permissions), one per running proxy (the main process id).
    static func socketPath(runtimeDirectory: String, mainPID: Int32) throws -> String {
        var dir = runtimeDirectory.trimmingSpaces
        while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
        guard !dir.isEmpty else { throw ModuleConfigError("the embedded relay needs a runtime folder for its socket") }
        var st = stat()
        guard stat(dir, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw ModuleConfigError("the embedded relay's socket folder '\(dir)' does not exist (set runtime_dir or -Y)")
        }
        let path = "\(dir)/iptrtpproxy-\(mainPID).sock"
        guard path.utf8.count < 108 else {
            throw ModuleConfigError("the embedded relay's socket path '\(path)' is longer than 107 bytes")
        }
        return path
    }

    /// The journal's path: `relay_journal` when given (nil when it was given empty: no journal),
    /// else `journalFileName` in the runtime folder (checked to exist by `socketPath`).
    static func journalPath(_ setting: ModuleConfiguration.JournalSetting, runtimeDirectory: String) -> String? {
        switch setting {
        case .off: return nil
        case .path(let path): return path
        case .runtimeFolder:
            var dir = runtimeDirectory.trimmingSpaces
            while dir.count > 1 && dir.hasSuffix("/") { dir.removeLast() }
            return dir == "/" ? "/\(journalFileName)" : "\(dir)/\(journalFileName)"
        }
    }

    /// Runs the relay until the process ends (the supervisor ends it with a signal). Returns only
    /// when the relay could not start, with the reason already logged.
    static func run(
        switchboards: SwitchboardSet, socketPath: String, journalPath: String?, metrics: Endpoint?, keptSessions: Int?
    ) -> Int32 {
        let logger = Logger(label: "iptrtpproxy.relay") { HostLogHandler(label: $0) }
        var configuration = RelayConfiguration(switchboards: switchboards, journalPath: journalPath, logger: logger)
        configuration.keptSessions = keptSessions
        // The embedded relay's journal is there for the relay's or Kamailio's death, which the page
        // cache survives; a host crash ends the calls anyway. So call set-up never waits on the disk.
        configuration.journalSyncs = false
        let engine = RelayEngine(configuration: configuration)
        let server = ControlServer(engine: engine, endpoints: .init(unixPath: socketPath), logger: logger)
        // Not MetricsEndpoint: swift-nio's event loop crashes inside the module (PollingMetricsEndpoint says why).
        let endpoint = metrics.map { PollingMetricsEndpoint(engine: engine, address: $0, logger: logger) }
        do {
            try engine.start()
            try server.start()
            do {
                try endpoint?.start()
            } catch {
                throw ModuleConfigError("modparam 'relay_metrics' (\(metrics.map { "\($0)" } ?? "")): \(error)")
            }
        } catch {
            HostLog.error("the embedded relay cannot start: \(error)")
            endpoint?.stop()
            server.stop()
            engine.stop()
            return -1
        }
        // The relay's threads do the work; this thread only waits for the end.
        while true { pause() }
    }
}
