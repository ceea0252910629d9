import IPTRTPProxyCore

/// What the control path knows of the sessions besides their legs: which slots are in use (with
/// their created stamps and resting times), each live session's merged request (for the stores
/// and `list`), the counters of freed sessions, and the relay's event tallies.
///
/// Held in `SessionOperations.book`; control requests and housekeeping rounds take that lock
/// first, then a shard's (never the other way round).
struct SessionBook {
    /// Slot states per switchboard, in `SwitchboardSet.all` order.
    var slots: [SessionSlots]
    /// The merged request of each live session, by global index.
    var requests: [SessionRequest]
    /// Counters of freed sessions, per switchboard, so totals survive the sessions.
    var retired: [StreamCounters]
    /// The same per side ([a, b]: what that side's clients sent), for the metrics' directions.
    var retiredSides: [[StreamCounters]]
    var tallies = Tallies()
    /// Requests are served (between the engine's start and stop).
    var serving = false
    /// Monotonic ns of the last start.
    var startedAt: Int64 = 0
    /// Shared-socket mode runs (set at start): sessions bind no sockets.
    var sharedSockets = false

    /// Relay-wide event counts.
    struct Tallies {
        var allocated: UInt64 = 0
        var deleted: UInt64 = 0
        var expired: UInt64 = 0
        var allocationFailures: UInt64 = 0
        var controlRequests: UInt64 = 0
        var controlErrors: UInt64 = 0
    }

    /// How slots are handed out (`RelayConfiguration.slotOrder`).
    let slotOrder: SessionSlots.Order

    /// A book with every slot free.
    init(switchboards: SwitchboardSet, sessionCount: Int, slotOrder: SessionSlots.Order) {
        self.slotOrder = slotOrder
        slots = switchboards.all.map { SessionSlots(count: $0.maxSessions, resurrectionTimeout: $0.resurrectionTimeout, order: slotOrder) }
        requests = Array(repeating: SessionRequest(), count: sessionCount)
        retired = Array(repeating: StreamCounters(), count: switchboards.all.count)
        retiredSides = Array(repeating: [StreamCounters(), StreamCounters()], count: switchboards.all.count)
    }

    /// Forgets every session (relay stop), keeping tallies and retired counters.
    mutating func forgetSessions(switchboards: SwitchboardSet) {
        slots = switchboards.all.map { SessionSlots(count: $0.maxSessions, resurrectionTimeout: $0.resurrectionTimeout, order: slotOrder) }
        requests = Array(repeating: SessionRequest(), count: requests.count)
    }

    var activeSessionCount: Int { slots.reduce(0) { $0 + $1.inUseCount } }
}
