/// One-way latencies in 100 ns buckets up to 100 ms (one beyond for anything slower): fixed memory,
/// nothing allocated per packet, exact enough for p50/p99 on loopback.
struct LatencyHistogram {
    static let bucketNanoseconds: UInt64 = 100
    static let bucketCount = 1_000_000
    private var buckets: [UInt32]
    private var overflow: UInt64 = 0
    private(set) var count: UInt64 = 0
    private(set) var maxNanoseconds: UInt64 = 0

    init() { buckets = [UInt32](repeating: 0, count: Self.bucketCount) }

    mutating func record(nanoseconds: UInt64) {
        count &+= 1
        if nanoseconds > maxNanoseconds { maxNanoseconds = nanoseconds }
        let i = nanoseconds / Self.bucketNanoseconds
        if i < UInt64(Self.bucketCount) { buckets[Int(i)] &+= 1 } else { overflow &+= 1 }
    }

    /// The latency below which `fraction` of the samples lie (upper edge of the bucket), in µs.
    func percentileMicroseconds(_ fraction: Double) -> Double? {
        guard count > 0 else { return nil }
        let target = UInt64((Double(count) * fraction).rounded(.up))
        var seen: UInt64 = 0
        for (i, n) in buckets.enumerated() where n > 0 {
            seen += UInt64(n)
            if seen >= target { return Double(UInt64(i + 1) * Self.bucketNanoseconds) / 1000 }
        }
        return Double(maxNanoseconds) / 1000
    }
}
