import CIPTRTPProxy
import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Synchronization

/// The sessions one forwarding thread serves, in flat memory allocated once: four legs per session
/// (`4 * local + 2 * gate + stream`; gate 0 = A, 1 = B; stream 0 = RTP, 1 = RTCP) and each
/// session's bookkeeping, plus the epoll set their sockets are registered in. The epoll data of a
/// socket is its leg index, so a packet finds its session in O(1), and `leg ^ 2` is the leg on
/// the other gate that forwards it.
///
/// Reached only through `LockedShard`: the forwarding thread holds the lock for one batch, the
/// control path and housekeeping for one session or one scan.
// @unchecked: the pointers are to memory this value alone owns, reached only through `LockedShard`'s mutex.
struct SessionShard: ~Copyable, @unchecked Sendable {
    let legs: UnsafeMutablePointer<StreamLeg>
    let sessions: UnsafeMutablePointer<SessionState>
    /// Sessions in this shard.
    let count: Int
    /// The epoll set of the shard's forwarding thread; -1 while the relay is stopped.
    private(set) var epollFD: Int32 = -1
    /// The ICE-lite agents of sides whose requests gave credentials (`ice=force`), by the index
    /// of the side's RTP leg (`4 * local + 2 * gate`). Few sessions have one, so a dictionary
    /// beside the flat legs; a leg's `answersICE` says when to look here.
    var iceAgents: [Int: ICELiteAgent] = [:]
    /// Shared-socket mode: the thread's receive and raw sockets (registered with
    /// `sharedToken4`/`sharedToken6`); nil: a socket per port.
    var shared: ShardSockets?

    init(count: Int, switchboardOf: (Int) -> Int) {
        self.count = count
        legs = .allocate(capacity: max(1, count * 4))
        legs.initialize(repeating: StreamLeg(), count: max(1, count * 4))
        sessions = .allocate(capacity: max(1, count))
        sessions.initialize(repeating: SessionState(), count: max(1, count))
        for l in 0..<count { sessions[l].switchboard = switchboardOf(l) }
    }

    deinit {
        if epollFD >= 0 { close(epollFD) }
        legs.deinitialize(count: max(1, count * 4))
        legs.deallocate()
        sessions.deinitialize(count: max(1, count))
        sessions.deallocate()
    }

    @inline(__always)
    static func leg(local l: Int, side: GateSide, stream: Int) -> Int { l * 4 + side.rawValue * 2 + stream }

    /// The leg of a local session.
    @inline(__always)
    func leg(_ l: Int, _ side: GateSide, _ stream: Int) -> UnsafeMutablePointer<StreamLeg> {
        legs + SessionShard.leg(local: l, side: side, stream: stream)
    }

    /// Opens the epoll set (relay start); `stop` is registered with `stopToken`.
    mutating func openEpoll(stop: WakeupPipe) throws {
        if epollFD < 0 {
            epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
            guard epollFD >= 0 else { throw SystemError("epoll_create1") }
        }
        try add(fd: stop.readFD, data: SessionShard.stopToken)
    }

    /// Closes the epoll set and the shared sockets (relay stop, after the thread ended).
    mutating func closeEpoll() {
        if epollFD >= 0 { close(epollFD) }
        epollFD = -1
        shared?.close()
        shared = nil
    }

    /// Closes the shared sockets (shared-socket mode failed to start; the epoll set stays).
    mutating func releaseShared() {
        shared?.close()
        shared = nil
    }

    /// Takes the thread's shared sockets (shared-socket mode) and registers their receive sockets.
    /// Owns them once this returns; throwing, it owns none of them.
    mutating func adopt(_ sockets: ShardSockets) throws {
        if sockets.receive4 >= 0 { try add(fd: sockets.receive4, data: SessionShard.sharedToken4) }
        if sockets.receive6 >= 0 { try add(fd: sockets.receive6, data: SessionShard.sharedToken6) }
        shared = sockets
    }

    /// Adds the socket of leg `leg` to the epoll set.
    func register(fd: Int32, leg: Int) throws {
        try add(fd: fd, data: UInt64(leg))
    }

    /// Closes every session's sockets, and those kept by free slots, and forgets them (relay
    /// stop; the stores keep the sessions).
    mutating func closeAll() {
        for l in 0..<count {
            closeSockets(local: l)
            sessions[l].inUse = false
        }
        iceAgents = [:]
    }

    /// Closes the sockets of local session `l`'s four legs and resets the legs. Closing a socket
    /// also takes it out of the epoll set.
    func closeSockets(local l: Int) {
        for k in 0..<4 {
            let leg = legs + (4 * l + k)
            if leg.pointee.fd >= 0 { close(leg.pointee.fd) }
            leg.pointee = StreamLeg()
        }
    }

    /// The four sockets of local session `l`'s legs when it has a socket of its own on each
    /// (a socket per port), else nil.
    func ownSockets(local l: Int) -> [Int32]? {
        let fds = (0..<4).map { legs[4 * l + $0].fd }
        return fds.allSatisfy { $0 >= 0 } ? fds : nil
    }

    /// Gives side `side` of local session `l` the relay's ICE credentials (a new set is an ICE
    /// restart: checks with the old password are refused from now on).
    mutating func setICE(_ credentials: ICECredentials, local l: Int, side: GateSide) {
        let base = SessionShard.leg(local: l, side: side, stream: 0)
        iceAgents[base] = ICELiteAgent(credentials)
        legs[base].answersICE = true
        legs[base + 1].answersICE = true
    }

    /// Forgets the ICE agents of local session `l` (freed).
    mutating func clearICE(local l: Int) {
        if iceAgents.isEmpty { return }
        iceAgents[4 * l] = nil
        iceAgents[4 * l + 2] = nil
    }

    /// epoll data that means "stop" (the engine's wakeup pipe).
    static let stopToken = UInt64.max
    /// epoll data of the shared IPv4 and IPv6 receive sockets.
    static let sharedToken4 = UInt64.max - 1
    static let sharedToken6 = UInt64.max - 2

    private func add(fd: Int32, data: UInt64) throws {
        guard epollFD >= 0 else { throw SystemError("epoll_ctl ADD: the relay is not running", code: EBADF) }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = data
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else { throw SystemError("epoll_ctl ADD") }
    }
}

/// A shard and its lock: the one way to its sessions.
final class LockedShard: Sendable {
    /// The shard's number (the forwarding thread `ipt-relay-N`).
    let index: Int
    let mutex: Mutex<SessionShard>

    init(index: Int, count: Int, switchboardOf: (Int) -> Int) {
        self.index = index
        mutex = Mutex(SessionShard(count: count, switchboardOf: switchboardOf))
    }

    /// Runs `body` holding the shard's lock.
    @inline(__always)
    func withLock<R>(_ body: (inout SessionShard) throws -> R) rethrows -> R {
        try mutex.withLock { shard in try body(&shard) }
    }
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
