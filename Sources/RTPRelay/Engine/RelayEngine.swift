import Glibc
import IPTRTPProxyCore
import Logging

/// The user-space relay: owns the switchboards' session slots and their sockets, forwards RTP and
/// RTCP between the two clients of every session on worker threads, learns sources, throttles
/// floods, expires idle sessions and journals the session table.
///
/// A library, not a program: create it anywhere, call `start()` in the process that will forward
/// (after a fork, in a host that forks), `stop()` to end its threads. It is a `MediaPlane`, so the
/// script functions can drive it in-process, and `ControlServer` serves it over a socket.
public final class RelayEngine: @unchecked Sendable {
    /// The software version reported by `info`.
    public static let version = "1.0.0"

    /// What the engine was created with.
    public let configuration: RelayConfiguration
    /// The switchboards served.
    public var switchboards: SwitchboardSet { configuration.switchboards }

    let table: SessionTable
    var workers: [RelayWorker] = []
    /// Serializes control requests, housekeeping and snapshots; taken before any worker lock.
    let control = ThreadLock()
    var slots: [SessionSlots]
    /// The merged request of each live session (for the journal and `list`), by global index.
    var requests: [SessionRequest]
    /// Counters of freed sessions, per switchboard, so totals survive the sessions.
    var retired: [StreamCounters]
    var tallies = Tallies()
    var journal: SessionJournal?
    var stopPipe: WakeupPipe?
    var housekeeper: PosixThread?
    var running = false
    var startedAt: Int64 = 0
    var clock: RelayClock { configuration.clock }
    var logger: Logger { configuration.logger }

    /// Relay-wide event counts.
    struct Tallies {
        var allocated: UInt64 = 0
        var deleted: UInt64 = 0
        var expired: UInt64 = 0
        var allocationFailures: UInt64 = 0
        var controlRequests: UInt64 = 0
        var controlErrors: UInt64 = 0
    }

    /// Creates the engine: allocates the session table, opens nothing and starts no thread.
    public init(configuration: RelayConfiguration) {
        self.configuration = configuration
        table = SessionTable(switchboards: configuration.switchboards)
        slots = configuration.switchboards.all.map { SessionSlots(count: $0.maxSessions, resurrectionTimeout: $0.resurrectionTimeout) }
        requests = Array(repeating: SessionRequest(), count: table.sessionCount)
        retired = Array(repeating: StreamCounters(), count: configuration.switchboards.all.count)
        if let path = configuration.journalPath { journal = SessionJournal(path: path) }
    }

    deinit {
        stop()
    }

    /// True between `start()` and `stop()`.
    public var isRunning: Bool { control.withLock { running } }

    /// Starts forwarding: creates the workers' epoll sets and threads, restores the journal's
    /// sessions (same ids, stamps and ports) and starts housekeeping.
    public func start() throws {
        try control.withLock {
            guard !running else { return }
            do {
                try startLocked()
            } catch {
                // Leave nothing half started: threads, sockets of restored sessions.
                let pipe = stopPipe
                running = false
                pipe?.signal()
                housekeeper?.join()
                housekeeper = nil
                for w in workers { w.join() }
                closeAllSessions()
                workers = []
                stopPipe = nil
                throw error
            }
        }
    }

    private func startLocked() throws {
        let pipe = try WakeupPipe()
        stopPipe = pipe
        var created: [RelayWorker] = []
        for i in 0..<configuration.workerCount {
            created.append(try RelayWorker(
                index: i, table: table, clock: clock, flood: configuration.floodLimit,
                coalescingMicroseconds: configuration.coalescingMicroseconds, logger: logger))
        }
        workers = created
        startedAt = clock.monotonicNanoseconds()
        running = true
        try restoreJournal()
        for w in workers { try w.start(stop: pipe) }
        if configuration.housekeepingInterval > 0 {
            let interval = configuration.housekeepingInterval
            housekeeper = try PosixThread(name: "ipt-housekeep") { [self] in
                var p = pollfd(fd: pipe.readFD, events: Int16(POLLIN), revents: 0)
                while true {
                    let r = poll(&p, 1, interval)
                    if r > 0 || (r < 0 && errno != EINTR) { return }
                    if r == 0 { housekeep() }
                }
            }
        }
        logger.info("relay started", metadata: [
            "workers": "\(workers.count)", "switchboards": "\(switchboards.all.map(\.name).joined(separator: ","))",
            "sessions": "\(activeSessionCount())",
        ])
    }

    /// Stops the threads and closes every socket. Live sessions stay in the journal, so the next
    /// `start()` (of this or a new process) restores them.
    public func stop() {
        let pipe: WakeupPipe? = control.withLock {
            guard running else { return nil }
            running = false
            return stopPipe
        }
        guard let pipe else { return }
        pipe.signal()
        housekeeper?.join()
        housekeeper = nil
        for w in workers { w.join() }
        control.withLock {
            // The journal keeps the live sessions and their latest latches for the next start.
            compactJournal()
            closeAllSessions()
            workers = []
            stopPipe = nil
        }
        logger.info("relay stopped")
    }

    /// Closes every session's sockets and forgets the sessions in memory (not in the journal).
    func closeAllSessions() {
        for g in 0..<table.sessionCount where table.sessions[g].inUse {
            for k in 0..<4 {
                let leg = table.legs + (4 * g + k)
                if leg.pointee.fd >= 0 { close(leg.pointee.fd) }
                leg.pointee = StreamLeg()
            }
            table.sessions[g].inUse = false
        }
        slots = switchboards.all.map { SessionSlots(count: $0.maxSessions, resurrectionTimeout: $0.resurrectionTimeout) }
        requests = Array(repeating: SessionRequest(), count: table.sessionCount)
    }

    // MARK: Pieces shared by the control path

    func worker(of g: Int) -> RelayWorker { workers[g % workers.count] }

    func resolve(_ name: String) throws -> Int {
        guard let s = switchboards.index(named: name) else {
            throw MediaPlaneError("unknown switchboard '\(name)'")
        }
        guard running else { throw MediaPlaneError("the relay is not running") }
        return s
    }

    func activeSessionCount() -> Int { slots.reduce(0) { $0 + $1.inUseCount } }

    /// Unix seconds of a monotonic time.
    func wall(_ mono: Int64, now: Int64, wallNow: UInt32) -> UInt32 {
        let ago = max(0, now - mono) / 1_000_000_000
        return wallNow &- UInt32(truncatingIfNeeded: ago)
    }

    func appendJournal(_ records: [JournalRecord]) {
        guard let journal, !records.isEmpty else { return }
        do {
            try journal.append(records)
        } catch {
            logger.error("session journal: \(error); sessions changed since may not survive a restart")
        }
    }
}
