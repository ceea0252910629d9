/// When the supervisor starts the embedded relay again after it died. A relay that dies now and
/// then is back at once (well within a second); one that keeps dying waits longer and longer, so
/// that a crash loop costs a start every few seconds, never a spinning CPU.
struct RestartPolicy: Equatable {
    /// Restarts are counted over this sliding window (milliseconds).
    var window: Int64 = 60_000
    /// The delay of a restart when few happened in the window (milliseconds).
    var firstDelay: Int64 = 100
    /// This many restarts in the window all get `firstDelay`: a crash or two is not a loop.
    var restartsAtFirstDelay = 3
    /// The delay never grows beyond this (milliseconds).
    var maxDelay: Int64 = 5_000

    /// When each restart of the window happened (milliseconds of a monotonic clock), oldest first.
    private(set) var recent: [Int64] = []

    /// One restart as the policy decided it.
    struct Restart: Equatable {
        /// Milliseconds to wait before the relay is started again.
        var delay: Int64
        /// Restarts in the window, this one included.
        var restartsInWindow: Int
    }

    /// Records a restart decided at `now` (the relay just died) and says how long to wait.
    mutating func restart(at now: Int64) -> Restart {
        recent.removeAll { now - $0 >= window }
        recent.append(now)
        let beyond = max(0, recent.count - restartsAtFirstDelay)
        // Doubling from firstDelay; the shift is capped so that it cannot overflow.
        let delay = min(maxDelay, firstDelay << Int64(min(beyond, 30)))
        return Restart(delay: delay, restartsInWindow: recent.count)
    }
}
