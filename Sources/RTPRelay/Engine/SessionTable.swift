import IPTRTPProxyCore

/// Every session slot of every switchboard, in flat memory allocated once at start.
///
/// Session *g* (global index = the switchboard's base + session id) owns four legs:
/// `4g + 2*gate + stream` (gate 0 = A, 1 = B; stream 0 = RTP, 1 = RTCP). The epoll data of a
/// socket is its leg index, so a packet finds its session in O(1), and `leg ^ 2` is the leg on the
/// other gate that forwards it.
final class SessionTable {
    let legs: UnsafeMutablePointer<StreamLeg>
    let sessions: UnsafeMutablePointer<SessionState>
    let sessionCount: Int
    /// First global index of each switchboard, in `SwitchboardSet.all` order.
    let bases: [Int]

    init(switchboards: SwitchboardSet) {
        var bases: [Int] = []
        var total = 0
        for sw in switchboards.all {
            bases.append(total)
            total += sw.maxSessions
        }
        self.bases = bases
        sessionCount = total
        legs = .allocate(capacity: max(1, total * 4))
        legs.initialize(repeating: StreamLeg(), count: max(1, total * 4))
        sessions = .allocate(capacity: max(1, total))
        sessions.initialize(repeating: SessionState(), count: max(1, total))
        for (s, sw) in switchboards.all.enumerated() {
            for id in 0..<sw.maxSessions { sessions[bases[s] + id].switchboard = s }
        }
    }

    deinit {
        legs.deinitialize(count: max(1, sessionCount * 4))
        legs.deallocate()
        sessions.deinitialize(count: max(1, sessionCount))
        sessions.deallocate()
    }

    @inline(__always)
    static func leg(session g: Int, side: GateSide, stream: Int) -> Int { g * 4 + side.rawValue * 2 + stream }

    /// The session index of a leg.
    @inline(__always)
    static func session(ofLeg leg: Int) -> Int { leg >> 2 }
}

/// The bookkeeping of one session slot besides its legs.
struct SessionState {
    var inUse = false
    var created: UInt32 = 0
    /// Index of the switchboard in `SwitchboardSet.all`.
    var switchboard = 0
    /// Monotonic ns of allocation (or restore).
    var allocatedAt: Int64 = 0
    /// Monotonic ns of the last control request that touched it.
    var touchedAt: Int64 = 0
}
