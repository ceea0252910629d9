/// Slows down guessing: a token bucket per peer address that failed authentications drain. While
/// an address has no token left its attempts are refused without being checked, so a stranger
/// gets at most `burst` tries at once and `perSecond` after that, however many connections it
/// opens. Bounded: it remembers at most `capacity` addresses, forgetting those that have refilled.
struct AuthThrottle {
    let burst: Double
    let perSecond: Double
    let capacity: Int
    private var buckets: [String: (tokens: Double, at: Int64)] = [:]

    init(burst: Double, perSecond: Double, capacity: Int = 4096) {
        self.burst = burst
        self.perSecond = perSecond
        self.capacity = capacity
    }

    /// Whether `address` may try now (time in ms).
    func mayTry(_ address: String, now: Int64) -> Bool {
        refilled(address, now: now) >= 1
    }

    /// Counts a failed attempt of `address`.
    mutating func failed(_ address: String, now: Int64) {
        let tokens = refilled(address, now: now)
        if buckets[address] == nil && buckets.count >= capacity { forgetRefilled(now: now) }
        buckets[address] = (max(0, tokens - 1), now)
    }

    /// Addresses remembered (for tests).
    var remembered: Int { buckets.count }

    private func refilled(_ address: String, now: Int64) -> Double {
        guard let b = buckets[address] else { return burst }
        return min(burst, b.tokens + Double(max(0, now - b.at)) * perSecond / 1000)
    }

    private mutating func forgetRefilled(now: Int64) {
        buckets = buckets.filter { refilled($0.key, now: now) < burst }
        // Still full of live attackers: forget the fullest half rather than grow.
        if buckets.count >= capacity {
            let kept = buckets.sorted { $0.value.tokens < $1.value.tokens }.prefix(capacity / 2)
            buckets = Dictionary(uniqueKeysWithValues: kept.map { ($0.key, $0.value) })
        }
    }
}
