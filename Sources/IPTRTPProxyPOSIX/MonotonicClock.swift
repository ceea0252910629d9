import Glibc

/// CLOCK_MONOTONIC: deadlines, learning windows, idle times, pacing.
public enum MonotonicClock {
    /// Now, in nanoseconds.
    @inlinable
    public static func nanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }

    /// Now, in milliseconds.
    public static func milliseconds() -> Int64 { nanoseconds() / 1_000_000 }

    /// Sleeps until the clock reaches `deadline` (absolute, ns); a signal does not cut it short.
    public static func sleep(until deadline: Int64) {
        var ts = timespec(tv_sec: Int(deadline / 1_000_000_000), tv_nsec: Int(deadline % 1_000_000_000))
        while clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil) == EINTR {}
    }
}
