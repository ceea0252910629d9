/// Worst latency and packet count per slice of send time (`rtpload --timeline FILE`): shows
/// whether a latency tail comes from periodic stalls of the relay (a housekeeping pass, a lock)
/// or is spread evenly.
struct LatencyTimeline {
    let sliceNanoseconds: UInt64
    private(set) var origin: UInt64?
    private var worst: [UInt64]
    private var packets: [UInt32]

    init(sliceNanoseconds: UInt64, maxSlices: Int) {
        self.sliceNanoseconds = sliceNanoseconds
        worst = [UInt64](repeating: 0, count: maxSlices)
        packets = [UInt32](repeating: 0, count: maxSlices)
    }

    mutating func record(sentAt: UInt64, latency: UInt64) {
        if origin == nil { origin = sentAt }
        guard let origin, sentAt >= origin else { return }
        let i = Int((sentAt - origin) / sliceNanoseconds)
        guard i < worst.count else { return }
        packets[i] &+= 1
        if latency > worst[i] { worst[i] = latency }
    }

    /// CSV: slice start (ms since the first measured packet), packets sent in it, worst latency (µs).
    var csv: String {
        var lines = ["t_ms,packets,max_us"]
        let last = packets.lastIndex(where: { $0 > 0 }) ?? -1
        if last >= 0 {
            for i in 0...last {
                lines.append("\(UInt64(i) * sliceNanoseconds / 1_000_000),\(packets[i]),\(Double(worst[i] / 100) / 10)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
