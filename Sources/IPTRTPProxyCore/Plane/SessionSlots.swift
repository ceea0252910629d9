/// The session slots of one switchboard: which are in use, which rest after being freed, and the
/// `created` stamp of each slot's current incarnation. Pure bookkeeping; time comes from the caller.
public struct SessionSlots: Sendable, Hashable {
    /// What a slot is doing.
    public enum State: Sendable, Hashable {
        /// Never used, or rested long enough.
        case free
        /// Holds a session.
        case inUse
        /// Freed at the given time; reusable once the resurrection timeout has passed.
        case resting(since: UInt32)
    }

    /// Slot states, index = session id.
    public private(set) var states: [State]
    /// The `created` stamp of each slot's latest incarnation (0 = never used).
    public private(set) var created: [UInt32]
    /// Seconds a freed slot rests.
    public let resurrectionTimeout: UInt32
    /// How the next slot is chosen.
    public let order: Order
    /// Slots not in use whose resources the plane kept for the next session on them (a relay's
    /// bound sockets, `RelayConfiguration.keptSessions`). `allocate` does not prefer them (that
    /// would make the next ports guessable); the plane counts and releases them. In no
    /// particular order; `warmPosition` finds a slot in it.
    public private(set) var warm: [Int] = []
    /// Where each slot sits in `warm`, -1 when it is not warm.
    private var warmPosition: [Int32]

    /// How `allocate` chooses among the usable slots.
    public enum Order: Sendable, Hashable {
        /// Uniformly at random: what a relay uses, so that no one can guess the ports of the
        /// next call from the ports of the last (the ports are where media is injected).
        case unpredictable
        /// The next usable slot after the last one handed out: for planes that forward nothing
        /// (the CLI's dry run), whose output should be the same on every run.
        case roundRobin
    }
    private var cursor = 0

    /// Creates `count` free slots, handed out in `order`.
    public init(count: Int, resurrectionTimeout: UInt32, order: Order = .unpredictable) {
        self.order = order
        states = Array(repeating: .free, count: count)
        created = Array(repeating: 0, count: count)
        warmPosition = Array(repeating: -1, count: count)
        self.resurrectionTimeout = resurrectionTimeout
    }

    /// Number of slots in use.
    /// Kept as slots change: the relay asks it on every free.
    public private(set) var inUseCount = 0

    /// Takes a usable slot (chosen uniformly at random with `.unpredictable`: its ports cannot be
    /// guessed from the ports of the calls before it) and stamps it. The stamp is `now`, raised above the slot's previous
    /// stamp so that incarnations of a slot always differ. Nil when every slot is in use or
    /// resting. A freed slot rests for `resurrectionTimeout`, so it is not handed out again at once.
    public mutating func allocate(now: UInt32) -> SessionHandle? {
        var generator = SystemRandomNumberGenerator()
        return allocate(now: now, using: &generator)
    }

    /// `allocate(now:)` with the choice drawn from `generator` (tests pass a seeded one).
    public mutating func allocate(now: UInt32, using generator: inout some RandomNumberGenerator) -> SessionHandle? {
        let n = states.count
        switch order {
        case .roundRobin:
            for step in 0..<n where isUsable((cursor + step) % n, now: now) {
                return take((cursor + step) % n, now: now)
            }
            return nil
        case .unpredictable:
            // Warm slots are not preferred: drawn first, the next call's ports would come from the
            // few slots the last calls used, guessable from them. Drawn uniformly like any other,
            // they are all warm once every slot has been used (within the plane's limit).
            // Rejection sampling first: a slot drawn uniformly from all and kept only if usable is
            // uniform over the usable ones, and costs O(1) while the switchboard is not nearly
            // full (a count over 30,000 slots per call was most of an allocation's CPU).
            if n > 0 {
                for _ in 0..<SessionSlots.randomProbes {
                    let i = Int.random(in: 0..<n, using: &generator)
                    if isUsable(i, now: now) { return take(i, now: now) }
                }
            }
            // Nearly full: count the usable slots and draw among them (uniform as well).
            let usable = states.indices.reduce(0) { $0 + (isUsable($1, now: now) ? 1 : 0) }
            guard usable > 0 else { return nil }
            var pick = Int.random(in: 0..<usable, using: &generator)
            for i in states.indices where isUsable(i, now: now) {
                if pick == 0 { return take(i, now: now) }
                pick -= 1
            }
            return nil
        }
    }

    /// Random draws `allocate` tries before it counts the usable slots.
    static let randomProbes = 32

    private mutating func take(_ i: Int, now: UInt32) -> SessionHandle {
        let stamp = max(now, created[i] &+ 1)
        states[i] = .inUse
        inUseCount += 1
        created[i] = stamp
        setWarm(i, false)
        cursor = (i + 1) % states.count
        return SessionHandle(id: i, created: stamp)
    }

    private func isUsable(_ i: Int, now: UInt32) -> Bool {
        switch states[i] {
        case .free: return true
        case .inUse: return false
        case .resting(let since): return now &- since >= resurrectionTimeout
        }
    }

    /// True when `handle` names the live incarnation of its slot (created 0 matches any).
    public func isLive(_ handle: SessionHandle) -> Bool {
        guard handle.id >= 0, handle.id < states.count, states[handle.id] == .inUse else { return false }
        return handle.created == 0 || created[handle.id] == handle.created
    }

    /// Frees a live slot; it rests from `now`. Returns false when the handle is not live.
    @discardableResult
    public mutating func free(_ handle: SessionHandle, now: UInt32) -> Bool {
        guard isLive(handle) else { return false }
        states[handle.id] = .resting(since: now)
        inUseCount -= 1
        return true
    }

    /// Puts a slot back in use with a known stamp (restoring a journal or a saved state).
    public mutating func restore(_ handle: SessionHandle) {
        guard handle.id >= 0, handle.id < states.count else { return }
        if states[handle.id] != .inUse { inUseCount += 1 }
        states[handle.id] = .inUse
        created[handle.id] = handle.created
        setWarm(handle.id, false)
    }

    /// True when slot `id` is warm (not in use, its resources kept).
    public func isWarm(_ id: Int) -> Bool { id >= 0 && id < warmPosition.count && warmPosition[id] >= 0 }

    /// Marks slot `id` warm (the plane kept its resources when it was freed) or cold (they were
    /// released, or a session took them). A slot in use is never warm: taking one clears it.
    public mutating func setWarm(_ id: Int, _ isWarm: Bool) {
        guard id >= 0, id < warmPosition.count else { return }
        let at = Int(warmPosition[id])
        if isWarm {
            guard at < 0, states[id] != .inUse else { return }
            warmPosition[id] = Int32(warm.count)
            warm.append(id)
        } else if at >= 0 {
            // Swap-remove: the last warm slot takes this one's place.
            let last = warm.removeLast()
            if last != id {
                warm[at] = last
                warmPosition[last] = Int32(at)
            }
            warmPosition[id] = -1
        }
    }
}
