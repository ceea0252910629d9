import Glibc

/// Where the engine reads time. The forwarding loop reads it once per batch. Tests substitute a
/// clock they move by hand, so learning windows and expiry are tested without waiting.
public protocol RelayClock: AnyObject, Sendable {
    /// Monotonic time in nanoseconds (learning windows, idle times, the flood bucket).
    func monotonicNanoseconds() -> Int64
    /// Unix time in seconds (created stamps, the journal, reported last-packet times).
    func wallSeconds() -> UInt32
}

/// The system clocks: CLOCK_MONOTONIC and CLOCK_REALTIME.
public final class SystemRelayClock: RelayClock {
    /// Creates the clock.
    public init() {}

    public func monotonicNanoseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
    }

    public func wallSeconds() -> UInt32 {
        UInt32(truncatingIfNeeded: time(nil))
    }
}
