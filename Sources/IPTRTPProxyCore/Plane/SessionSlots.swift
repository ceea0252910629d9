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
    private var cursor = 0

    /// Creates `count` free slots.
    public init(count: Int, resurrectionTimeout: UInt32) {
        states = Array(repeating: .free, count: count)
        created = Array(repeating: 0, count: count)
        self.resurrectionTimeout = resurrectionTimeout
    }

    /// Number of slots in use.
    public var inUseCount: Int { states.reduce(0) { $0 + ($1 == .inUse ? 1 : 0) } }

    /// Takes the next usable slot (round robin, so a freed port is not handed out again at once) and
    /// stamps it. The stamp is `now`, raised above the slot's previous stamp so that incarnations of
    /// a slot always differ. Nil when every slot is in use or resting.
    public mutating func allocate(now: UInt32) -> SessionHandle? {
        let n = states.count
        for step in 0..<n {
            let i = (cursor + step) % n
            let usable: Bool
            switch states[i] {
            case .free: usable = true
            case .inUse: usable = false
            case .resting(let since): usable = now &- since >= resurrectionTimeout
            }
            guard usable else { continue }
            let stamp = max(now, created[i] &+ 1)
            states[i] = .inUse
            created[i] = stamp
            cursor = (i + 1) % n
            return SessionHandle(id: i, created: stamp)
        }
        return nil
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
        return true
    }

    /// Puts a slot back in use with a known stamp (restoring a journal or a saved state).
    public mutating func restore(_ handle: SessionHandle) {
        guard handle.id >= 0, handle.id < states.count else { return }
        states[handle.id] = .inUse
        created[handle.id] = handle.created
    }
}
