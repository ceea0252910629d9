import Glibc

/// The clock of the send stamps in the payload: CLOCK_REALTIME, because the kernel's receive
/// timestamps (SO_TIMESTAMPNS) are taken on it. Sender and sink share the host, so the difference
/// is the one-way time; a clock step during a run of seconds is not expected on a test host.
enum StampClock {
    static func nanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
