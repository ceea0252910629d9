import Logging

/// A swift-log handler that writes to the host's log, so that the embedded relay's lines land in
/// the proxy's log. The relay logs from several threads; `HostLog` writes one line at a time.
struct HostLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    /// The level set on the logger (`.info` unless set).
    private var configuredLevel: Logger.Level = .info
    let label: String

    /// The set level or the host's, whichever is less detailed: a line the host would drop (the
    /// relay's per-call `session deleted` line at Kamailio's usual levels) is not even formatted.
    var logLevel: Logger.Level {
        get {
            let host: Logger.Level
            switch HostLog.mostDetailedLevel {
            case .debug: host = .trace
            case .info: host = .info
            case .notice: host = .notice
            case .warning: host = .warning
            case .error: host = .error
            }
            return max(configuredLevel, host)
        }
        set { configuredLevel = newValue }
    }

    init(label: String) { self.label = label }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var text = event.message.description
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        if !merged.isEmpty {
            text += " " + merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        let level: HostLog.Level
        switch event.level {
        case .trace, .debug: level = .debug
        case .info: level = .info
        case .notice: level = .notice
        case .warning: level = .warning
        case .error, .critical: level = .error
        }
        HostLog.write(level, text)
    }
}
