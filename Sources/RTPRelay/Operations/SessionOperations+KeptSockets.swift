import IPTRTPProxyCore

/// Sockets kept across sessions (`RelayConfiguration.keptSessions`): a freed session's four
/// sockets stay bound and in its thread's epoll set, on the legs of its slot, and the slot is
/// marked warm in `SessionSlots` (which still draws every slot uniformly: preferring warm ones would
/// make the next call's ports those of the last calls). The next session drawn on the slot
/// takes them as they are. While parked, a leg is a fresh `StreamLeg` with only its socket: it
/// was described by no request, so whatever arrives is read and dropped as from an unknown source
/// (where a closed port would have the kernel answer with ICMP).
extension SessionOperations {
    /// How many freed sessions keep their sockets at most: `requested` (nil: every slot).
    static func keptSessionLimit(requested: Int?, slots: Int) -> Int {
        max(0, min(requested ?? slots, slots))
    }

    /// Sessions whose sockets (four each) may fill three quarters of the file limit: a session
    /// is kept only while the live and kept ones stay within it, so that a quarter is always left
    /// to everything else (control connections, the store, metrics).
    static func descriptorBudget(fileLimit: Int) -> Int {
        fileLimit / 4 * 3 / 4
    }

    /// Freed sessions holding their sockets now.
    func keptSessionCount(_ book: SessionBook) -> Int { book.slots.reduce(0) { $0 + $1.warm.count } }

    /// Whether a session being freed (still counted live) keeps its sockets: a socket per port,
    /// room under `keptSessionLimit`, and live and kept sessions within `descriptorBudget`.
    func keepsSockets(_ book: SessionBook) -> Bool {
        guard !book.sharedSockets else { return false }
        let kept = keptSessionCount(book)
        return kept < keptSessionLimit && kept + book.activeSessionCount <= descriptorBudget
    }

    /// The four sockets a warm slot kept (global session `g`, local `l` in its shard), or nil when
    /// it kept none.
    func keptSockets(of g: Int) -> [Int32]? {
        shard(of: g).withLock { sh in sh.ownSockets(local: layout.local(of: g)) }
    }

    /// Closes the sockets of up to `count` warm slots (any switchboard) and marks them cold:
    /// a new session found no descriptor. Returns how many were released.
    @discardableResult
    func releaseKeptSockets(atMost count: Int, book: inout SessionBook) -> Int {
        var released = 0
        for s in book.slots.indices {
            while released < count, let id = book.slots[s].warm.last {
                let g = layout.global(switchboard: s, id: id)
                let l = layout.local(of: g)
                shard(of: g).withLock { sh in
                    if !sh.sessions[l].inUse { sh.closeSockets(local: l) }
                }
                book.slots[s].setWarm(id, false)
                released += 1
            }
        }
        return released
    }

    /// Warm slots released at once when binding finds no descriptor: a few, so that one
    /// allocation does not empty what many calls would reuse.
    static let releasedOnDescriptorShortage = 16
}
