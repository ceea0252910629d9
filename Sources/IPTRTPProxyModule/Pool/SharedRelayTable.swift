import Glibc
import Synchronization

/// What every process of the proxy knows about each media host, in one shared memory mapping that
/// module init makes in the host's main process, before it forks: so that a host one worker found
/// dead is skipped by every worker at once, the prober's verdict reaches all of them, and the
/// weighted choice of hosts counts the calls of all workers. Every field is an atomic word, so a
/// worker killed at any instant leaves nothing locked.
final class SharedRelayTable: @unchecked Sendable {  // the mapping is shared by design; every access is atomic
    /// A host's health as the proxy sees it.
    enum Health: UInt32, Sendable {
        /// Not probed yet: calls may try it.
        case unknown = 0
        /// Answered the last probe or call.
        case up = 1
        /// Refused, reset, timed out or answered nonsense: no call waits on it until a probe
        /// finds it answering again.
        case down = 2

        var word: String {
            switch self {
            case .unknown: return "unknown"
            case .up: return "up"
            case .down: return "down"
            }
        }
    }

    /// One host's words, in this order, then the last error's bytes.
    private enum Field: Int, CaseIterable {
        case health, generation, since, assigned, sessions, failures, allocations, errorWriter, errorLength, relayStart
    }
    private static let errorWords = 32
    /// Longest last-error text kept.
    static let maxErrorLength = errorWords * 8
    private static let slotWords = Field.allCases.count + errorWords

    /// Hosts in the table.
    let count: Int
    private let words: UnsafeMutablePointer<Atomic<UInt64>>
    private let mappedBytes: Int

    /// Maps a table for `count` hosts, all unknown. Nil when the system refuses the mapping.
    init?(count: Int) {
        let bytes = max(1, count * Self.slotWords * MemoryLayout<Atomic<UInt64>>.stride)
        guard let raw = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0), raw != MAP_FAILED else {
            return nil
        }
        let typed = raw.bindMemory(to: Atomic<UInt64>.self, capacity: count * Self.slotWords)
        for i in 0..<(count * Self.slotWords) { (typed + i).initialize(to: Atomic<UInt64>(0)) }
        self.count = count
        words = typed
        mappedBytes = bytes
        let now = Self.now()
        for host in 0..<count {
            word(host, .since).pointee.store(now, ordering: .relaxed)
            word(host, .sessions).pointee.store(UInt64.max, ordering: .relaxed)
        }
    }

    // The mapping lives as long as the process: every process of the proxy holds it until it ends.

    private func word(_ host: Int, _ field: Field) -> UnsafeMutablePointer<Atomic<UInt64>> {
        words + host * Self.slotWords + field.rawValue
    }

    /// Seconds since the epoch.
    static func now() -> UInt64 { UInt64(max(0, time(nil))) }

    // MARK: Health

    /// The host's health.
    func health(_ host: Int) -> Health {
        Health(rawValue: UInt32(truncatingIfNeeded: word(host, .health).pointee.load(ordering: .acquiring))) ?? .unknown
    }

    /// When the host's health last changed (seconds since the epoch).
    func since(_ host: Int) -> UInt64 { word(host, .since).pointee.load(ordering: .relaxed) }

    /// Bumped each time the host comes (back) up: a worker that learned its switchboards under an
    /// older generation asks again.
    func generation(_ host: Int) -> UInt64 { word(host, .generation).pointee.load(ordering: .acquiring) }

    /// Marks the host down with `reason`; true when this call took it down (the caller logs it once).
    @discardableResult
    func markDown(_ host: Int, reason: String) -> Bool {
        setLastError(host, reason)
        let w = word(host, .health)
        var current = w.pointee.load(ordering: .relaxed)
        while current != UInt64(Health.down.rawValue) {
            let (exchanged, original) = w.pointee.compareExchange(
                expected: current, desired: UInt64(Health.down.rawValue), ordering: .acquiringAndReleasing)
            if exchanged {
                word(host, .since).pointee.store(Self.now(), ordering: .relaxed)
                word(host, .failures).pointee.add(1, ordering: .relaxed)
                return true
            }
            current = original
        }
        return false
    }

    /// Marks the host up (the prober, after it answered); true when it was not up before. A host
    /// that comes back is given its share of the assignments so far, so that it does not take
    /// every new call until it has caught up.
    @discardableResult
    func markUp(_ host: Int, weights: [Int]) -> Bool {
        let w = word(host, .health)
        let before = w.pointee.exchange(UInt64(Health.up.rawValue), ordering: .acquiringAndReleasing)
        guard before != UInt64(Health.up.rawValue) else { return false }
        word(host, .since).pointee.store(Self.now(), ordering: .relaxed)
        let others = (0..<count).filter { $0 != host && health($0) == .up }
        if let level = others.map({ Double(assigned($0)) / Double(max(1, weights[$0])) }).min() {
            let share = UInt64(level * Double(max(1, weights[host])))
            let a = word(host, .assigned)
            if a.pointee.load(ordering: .relaxed) < share { a.pointee.store(share, ordering: .relaxed) }
        }
        word(host, .generation).pointee.add(1, ordering: .releasing)
        return true
    }

    /// Bumps the generation without a change of health: the host restarted between two probes
    /// (its switchboards may have changed).
    func bumpGeneration(_ host: Int) { word(host, .generation).pointee.add(1, ordering: .releasing) }

    /// The relay's own start (seconds since the epoch) as the prober last computed it; 0 unknown.
    func relayStart(_ host: Int) -> UInt64 { word(host, .relayStart).pointee.load(ordering: .relaxed) }
    func setRelayStart(_ host: Int, _ value: UInt64) { word(host, .relayStart).pointee.store(value, ordering: .relaxed) }

    // MARK: Counters

    /// New calls given to the host (reserved by the weighted choice).
    func assigned(_ host: Int) -> UInt64 { word(host, .assigned).pointee.load(ordering: .relaxed) }
    /// Reserves one call for the host (the choice).
    func reserve(_ host: Int) { word(host, .assigned).pointee.add(1, ordering: .relaxed) }
    /// Gives a reserved call back (it did not stay on the host).
    func unreserve(_ host: Int) { word(host, .assigned).pointee.subtract(1, ordering: .relaxed) }

    /// Calls allocated on the host through this proxy.
    func allocations(_ host: Int) -> UInt64 { word(host, .allocations).pointee.load(ordering: .relaxed) }
    func countAllocation(_ host: Int) { word(host, .allocations).pointee.add(1, ordering: .relaxed) }

    /// Times the host was marked down.
    func failures(_ host: Int) -> UInt64 { word(host, .failures).pointee.load(ordering: .relaxed) }

    /// Live sessions on the host at its last probe; nil before the first answer.
    func sessions(_ host: Int) -> Int? {
        let v = word(host, .sessions).pointee.load(ordering: .relaxed)
        return v == UInt64.max ? nil : Int(clamping: v)
    }
    func setSessions(_ host: Int, _ value: Int) { word(host, .sessions).pointee.store(UInt64(max(0, value)), ordering: .relaxed) }

    // MARK: Last error

    /// Keeps `text` (cut to `maxErrorLength` bytes) as the host's last error. Writers take turns
    /// through a flag; one that finds it taken drops its text (a report, not a record).
    func setLastError(_ host: Int, _ text: String) {
        let writer = word(host, .errorWriter)
        guard writer.pointee.compareExchange(expected: 0, desired: 1, ordering: .acquiring).exchanged else { return }
        let bytes = Array(text.utf8.prefix(Self.maxErrorLength))
        let length = word(host, .errorLength)
        // An odd length word says "being written"; readers retry.
        let sequence = (length.pointee.load(ordering: .relaxed) >> 32) &+ 1
        length.pointee.store(sequence << 32 | 1, ordering: .releasing)
        for i in 0..<Self.errorWords {
            var packed: UInt64 = 0
            for b in 0..<8 where i * 8 + b < bytes.count { packed |= UInt64(bytes[i * 8 + b]) << (8 * UInt64(b)) }
            errorWord(host, i).pointee.store(packed, ordering: .relaxed)
        }
        length.pointee.store((sequence &+ 1) << 32 | UInt64(bytes.count) << 1, ordering: .releasing)
        writer.pointee.store(0, ordering: .releasing)
    }

    /// The host's last error, or nil when it never failed.
    func lastError(_ host: Int) -> String? {
        let length = word(host, .errorLength)
        for _ in 0..<100 {
            let before = length.pointee.load(ordering: .acquiring)
            guard before & 1 == 0 else { continue }
            let count = Int((before & 0xffff_ffff) >> 1)
            var bytes: [UInt8] = []
            bytes.reserveCapacity(count)
            for i in 0..<Self.errorWords where i * 8 < count {
                let packed = errorWord(host, i).pointee.load(ordering: .relaxed)
                for b in 0..<8 where i * 8 + b < count { bytes.append(UInt8(truncatingIfNeeded: packed >> (8 * UInt64(b)))) }
            }
            if length.pointee.load(ordering: .acquiring) == before {
                return count == 0 ? nil : String(decoding: bytes, as: UTF8.self)
            }
        }
        return nil
    }

    private func errorWord(_ host: Int, _ i: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        words + host * Self.slotWords + Field.allCases.count + i
    }
}
