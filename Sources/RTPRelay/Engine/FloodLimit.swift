/// The per-stream flood throttle: a token bucket. A stream may send `burst` packets at once and
/// `packetsPerSecond` on average; packets above that are dropped and counted, never queued, and
/// the stream keeps flowing once it slows down. The default sits far above any real media stream
/// (audio is 50 pps, video a few thousand) and above the 50,000 pps single-stream benchmark.
public struct FloodLimit: Hashable, Sendable {
    /// Average packets per second a stream may send.
    public var packetsPerSecond: Double
    /// Packets a stream may send at once.
    public var burst: Double

    /// Creates a limit.
    public init(packetsPerSecond: Double = 100_000, burst: Double = 20_000) {
        self.packetsPerSecond = packetsPerSecond
        self.burst = burst
    }

    var packetsPerNanosecond: Double { packetsPerSecond / 1_000_000_000 }
}
