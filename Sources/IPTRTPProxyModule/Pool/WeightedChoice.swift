/// The order in which an alloc tries the live hosts of a pool: the host furthest behind its
/// share first. Each host's share of the calls is its weight; `assigned` counts the calls every
/// worker of the proxy gave it (shared). Deterministic, so calls spread by weight evenly over time,
/// not by chance: weights 2 and 1 give A A B, A A B, ...
enum WeightedChoice {
    /// One live candidate.
    struct Candidate: Equatable {
        var host: Int
        var weight: Int
        var assigned: UInt64
    }

    /// The candidates, best first: the lowest `(assigned + 1) / weight`; ties go to the larger
    /// weight, then to the earlier host (modparam order).
    static func order(_ candidates: [Candidate]) -> [Int] {
        candidates.sorted { x, y in
            // (x.assigned + 1) / x.weight < (y.assigned + 1) / y.weight, without division.
            let lhs = (x.assigned &+ 1).multipliedFullWidth(by: UInt64(max(1, y.weight)))
            let rhs = (y.assigned &+ 1).multipliedFullWidth(by: UInt64(max(1, x.weight)))
            if lhs.high != rhs.high { return lhs.high < rhs.high }
            if lhs.low != rhs.low { return lhs.low < rhs.low }
            if x.weight != y.weight { return x.weight > y.weight }
            return x.host < y.host
        }.map(\.host)
    }
}
