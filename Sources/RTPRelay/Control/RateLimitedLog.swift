import Logging

/// Log lines a stranger can cause, at most one per interval; the next line that gets through
/// says how many were left out, so an attack shows in the log without filling it.
struct RateLimitedLog {
    let intervalMilliseconds: Int64
    private var lastAt: Int64 = Int64.min / 2
    private var leftOut = 0

    init(intervalMilliseconds: Int64 = 1000) {
        self.intervalMilliseconds = intervalMilliseconds
    }

    /// Logs `message` at warning level unless a line went out less than an interval ago.
    mutating func warning(_ message: @autoclosure () -> String, logger: Logger, now: Int64) {
        guard now - lastAt >= intervalMilliseconds else {
            leftOut += 1
            return
        }
        let suffix = leftOut > 0 ? " (\(leftOut) similar line(s) left out)" : ""
        logger.warning("\(message())\(suffix)")
        lastAt = now
        leftOut = 0
    }
}
