import IPTRTPProxyCore

/// The per-stream flood throttle: a token bucket. A stream may send `burst` packets at once and
/// `packetsPerSecond` on average; packets above that are dropped and counted, never queued, and
/// the stream keeps flowing once it slows down.
///
/// The default is sized for media, so that one latched (or spoofed) source cannot push a flood at
/// a phone: audio sends 50 packets/s (20 ms frames; 100 at 10 ms), HD video at 4 Mbit/s about
/// 400 packets/s of 1,200 bytes, screen sharing or 4K at 20 Mbit/s about 2,100. 3,000 packets/s
/// covers all of them with room; a burst of 500 packets lets a 4K key frame (about 600 KB) pass
/// at once. A switchboard sets its own (`max-stream-pps`, `max-stream-burst`); benchmarks that
/// measure a relay flat out pass a higher limit explicitly.
public struct FloodLimit: Hashable, Sendable {
    /// Average packets per second a stream may send.
    public var packetsPerSecond: Double
    /// Packets a stream may send at once.
    public var burst: Double

    /// Creates a limit.
    public init(packetsPerSecond: Double = FloodLimit.defaultPacketsPerSecond, burst: Double = FloodLimit.defaultBurst) {
        self.packetsPerSecond = packetsPerSecond
        self.burst = burst
    }

    /// The default rate: what media needs, with room.
    public static let defaultPacketsPerSecond: Double = 3_000
    /// The default burst: a large video key frame.
    public static let defaultBurst: Double = 500

    /// This limit with what switchboard `sw` sets in place of the relay-wide values.
    public func overridden(by sw: Switchboard) -> FloodLimit {
        FloodLimit(
            packetsPerSecond: sw.maxStreamPPS.map(Double.init) ?? packetsPerSecond,
            burst: sw.maxStreamBurst.map(Double.init) ?? burst)
    }

    var packetsPerNanosecond: Double { packetsPerSecond / 1_000_000_000 }
}
