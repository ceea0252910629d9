import Glibc
import Logging

/// Whether log lines start with a syslog priority (`<3>`..`<7>`, sd-daemon(3)), which journald
/// reads from a service's standard error so that `journalctl -p warning` filters.
enum LogPrefixMode: String, CaseIterable {
    /// Prefix every line.
    case syslog
    /// Plain lines with a timestamp, for a terminal or a file.
    case none
    /// `syslog` when standard error is journald's stream (`JOURNAL_STREAM`), else `none`.
    case auto

    /// `auto` decided for this process.
    var resolved: LogPrefixMode {
        guard self == .auto else { return self }
        return LogPrefixMode.standardErrorIsJournal() ? .syslog : .none
    }

    /// systemd sets `JOURNAL_STREAM=DEV:INODE` for a service whose output goes to the journal; the
    /// variable is inherited by children whose stderr may go elsewhere, so the inode must match fd 2's.
    static func standardErrorIsJournal() -> Bool {
        guard let value = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var st = stat()
        guard fstat(2, &st) == 0 else { return false }
        return UInt64(st.st_dev) == device && UInt64(st.st_ino) == inode
    }
}

/// The daemon's swift-log handler: one line per message on standard error, written with one
/// write(2) so that the threads' lines never interleave.
struct DaemonLogHandler: LogHandler {
    let label: String
    /// `syslog` or `none` (already resolved).
    let prefix: LogPrefixMode
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// The syslog priority of a level: critical is crit (2), error err (3), warning (4), notice (5),
    /// info (6); debug and trace are both debug (7).
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .critical: return 2
        case .error: return 3
        case .warning: return 4
        case .notice: return 5
        case .info: return 6
        case .debug, .trace: return 7
        }
    }

    func log(event: LogEvent) {
        let merged = event.metadata.map { metadata.merging($0) { $1 } } ?? metadata
        let fields = merged.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        // A message with a line break would become two journal entries, the second without priority.
        let message = "\(event.message)".replacingNewlines
        var line: String
        if prefix == .syslog {
            // journald stamps the time; the level word stays for `journalctl -o cat` readers.
            line = "<\(DaemonLogHandler.priority(event.level))>\(label): \(event.level): \(message)\(fields)\n"
        } else {
            line = "\(DaemonLogHandler.timestamp()) \(event.level) \(label): \(message)\(fields)\n"
        }
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = retrying { write(2, bytes.baseAddress! + offset, bytes.count - offset) }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    private func retrying(_ call: () -> Int) -> Int {
        while true {
            let n = call()
            if n < 0 && errno == EINTR { continue }
            return n
        }
    }

    /// Local time to the second, ISO 8601 with the zone offset.
    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension String {
    /// Line breaks as the two characters `\n`, so that one message stays one line.
    fileprivate var replacingNewlines: String {
        guard contains(where: \.isNewline) else { return self }
        return String(flatMap { $0.isNewline ? ["\\", "n"] : [$0] })
    }
}
