import ArgumentParser
import Glibc
import IPTRTPProxyPOSIX
import Logging

/// How the daemon talks to its service manager: log lines journald can rank, and readiness.
extension RelayDaemon {
    /// The levels `--log-level` and the `[relay]` key `log-level` take.
    static let logLevelNames = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")

    /// Checks `--log-level` and `--log-prefix` (the cfg file's key is checked once it is read).
    func validateLogging() throws {
        if let logLevel, Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level must be one of \(RelayDaemon.logLevelNames)")
        }
        guard LogPrefixMode(rawValue: logPrefix) != nil else {
            throw ValidationError("--log-prefix must be syslog, none or auto")
        }
    }

    /// Installs `DaemonLogHandler` with the level of `--log-level`, else the `[relay]` section's
    /// `log-level`, else info.
    func bootstrapLogging(relaySettings: [String: String]) throws {
        var level = Logger.Level.info
        if let text = logLevel ?? relaySettings["log-level"] {
            guard let l = Logger.Level(rawValue: text) else {
                throw ValidationError("\(configFile) [relay] log-level must be one of \(RelayDaemon.logLevelNames), not '\(text)'")
            }
            level = l
        }
        let prefix = (LogPrefixMode(rawValue: logPrefix) ?? .auto).resolved, chosen = level
        LoggingSystem.bootstrap { label in DaemonLogHandler(label: label, prefix: prefix, logLevel: chosen) }
    }

    /// The service manager's notification socket, unless `--no-notify` or none is set; a
    /// malformed `NOTIFY_SOCKET` is logged and ignored (the relay itself is fine).
    func readinessNotifier(_ logger: Logger) -> ServiceNotifier? {
        guard !noNotify else { return nil }
        do {
            return try ServiceNotifier.fromEnvironment()
        } catch {
            logger.warning("readiness is not announced: \(error)")
            return nil
        }
    }

    /// `READY=1`: sent once the control socket listens, so that units ordered after this one
    /// (a Kamailio using the relay) find it serving.
    func notifyReady(_ notifier: ServiceNotifier?, sessions: Int, _ logger: Logger) {
        send(notifier, "READY=1\nSTATUS=serving, \(sessions) sessions restored\nMAINPID=\(getpid())", logger)
    }

    /// `STOPPING=1` as the shutdown begins.
    func notifyStopping(_ notifier: ServiceNotifier?, _ logger: Logger) {
        send(notifier, "STOPPING=1\nSTATUS=stopping", logger)
    }

    private func send(_ notifier: ServiceNotifier?, _ state: String, _ logger: Logger) {
        guard let notifier else { return }
        do {
            try notifier.notify(state)
        } catch {
            logger.warning("cannot notify the service manager: \(error)")
        }
    }
}
