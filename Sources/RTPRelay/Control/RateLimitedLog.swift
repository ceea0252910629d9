import Logging

/// Log lines a stranger (or a flood of calls) can cause, at most one per interval for each kind of event; the next line
/// of a kind that gets through says how many of that kind were left out, so an attack shows in the
/// log without filling it.
struct RateLimitedLog {
    /// What a line is about; each kind has its own interval and count.
    enum Kind: Hashable {
        case failedAuthentication, malformed, crowded, deadline, unreadReplies, tlsHandshake
        /// Allocs of clients that hung up before the relay read them (a stalled relay's backlog).
        case abandoned
        /// The kernel offload's table is full: every new call would say so.
        case kernelTableFull
        /// The session store cannot be written (a full disk): every change of every call would say so.
        case storeFailed
    }

    let intervalMilliseconds: Int64
    private var last: [Kind: (at: Int64, leftOut: Int)] = [:]

    init(intervalMilliseconds: Int64 = 1000) {
        self.intervalMilliseconds = intervalMilliseconds
    }

    /// Logs `message` at warning level unless a line of its kind went out less than an interval ago.
    mutating func warning(_ kind: Kind, _ message: @autoclosure () -> String, logger: Logger, now: Int64) {
        log(.warning, kind, message(), logger: logger, now: now)
    }

    /// Logs `message` at `level` unless a line of its kind went out less than an interval ago.
    mutating func log(_ level: Logger.Level, _ kind: Kind, _ message: @autoclosure () -> String, logger: Logger, now: Int64) {
        let previous = last[kind] ?? (at: Int64.min / 2, leftOut: 0)
        guard now - previous.at >= intervalMilliseconds else {
            last[kind] = (previous.at, previous.leftOut + 1)
            return
        }
        let suffix = previous.leftOut > 0 ? " (\(previous.leftOut) more like it left out)" : ""
        logger.log(level: level, "\(message())\(suffix)")
        last[kind] = (now, 0)
    }
}
