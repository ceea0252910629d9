import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Logging
import Synchronization

/// The user-space relay: owns the switchboards' session slots and their sockets, forwards RTP and
/// RTCP between the two clients of every session on worker threads, learns sources, throttles
/// floods, expires idle sessions and journals the session table.
///
/// A library, not a program: create it anywhere, call `start()` in the process that will forward
/// (after a fork, in a host that forks), `stop()` to end its threads. It is a `MediaPlane`, so the
/// script functions can drive it in-process, and `ControlServer` serves it over a socket.
///
/// The engine itself only starts and stops; the work is done by its parts, each with its own
/// state: `SessionOperations` (the control-facing changes and reports, with the `SessionBook`),
/// the `LockedShard`s (the legs, one per forwarding thread), `RelayWorker` (forwarding),
/// `Housekeeper` (expiry), the `SessionStore` (journal) and the `OffloadCoordinator` (kernel).
public final class RelayEngine: Sendable {
    /// The software version reported by `info`.
    public static let version = IPTRTPProxyVersion.string

    /// What the engine was created with.
    public let configuration: RelayConfiguration
    /// The switchboards served.
    public var switchboards: SwitchboardSet { configuration.switchboards }

    let operations: SessionOperations
    /// The threads of a started engine; nil while stopped.
    private let threads = Mutex<RunningThreads?>(nil)

    private struct RunningThreads {
        var stop: WakeupPipe
        var forwarding: [PosixThread]
        var housekeeper: PosixThread?
    }

    var logger: Logger { configuration.logger }

    /// Creates the engine: allocates the session table, opens nothing and starts no thread.
    public init(configuration: RelayConfiguration) {
        self.configuration = configuration
        operations = SessionOperations(configuration: configuration)
    }

    deinit {
        stop()
    }

    /// True between `start()` and `stop()`.
    public var isRunning: Bool { threads.withLock { $0 != nil } }

    /// Starts forwarding: creates the workers' epoll sets and threads, restores the journal's
    /// sessions (same ids, stamps and ports) and starts housekeeping.
    public func start() throws {
        try threads.withLock { threads in
            guard threads == nil else { return }
            let stop = try WakeupPipe()
            var started = RunningThreads(stop: stop, forwarding: [], housekeeper: nil)
            do {
                let ports = try operations.book.withLock { book in
                    for shard in operations.shards { try shard.withLock { try $0.openEpoll(stop: stop) } }
                    let ports = startSharedSockets(book: &book)
                    book.serving = true
                    book.startedAt = configuration.clock.monotonicNanoseconds()
                    try operations.restore(book: &book)
                    return ports
                }
                for shard in operations.shards {
                    started.forwarding.append(try RelayWorker(
                        shard: shard, clock: configuration.clock,
                        coalescingMicroseconds: configuration.coalescingMicroseconds, logger: logger,
                        ports: ports, shardCount: operations.shards.count
                    ).start(stop: stop))
                }
                if configuration.housekeepingInterval > 0 {
                    started.housekeeper = try Housekeeper.start(
                        operations: operations, intervalMilliseconds: configuration.housekeepingInterval, stop: stop)
                }
            } catch {
                // Leave nothing half started: threads, sockets of restored sessions.
                stop.signal()
                started.housekeeper?.join()
                for t in started.forwarding { t.join() }
                operations.book.withLock { book in
                    book.serving = false
                    closeSessions(book: &book)
                }
                throw error
            }
            threads = started
        }
        logger.info("relay started", metadata: [
            "workers": "\(operations.shards.count)", "switchboards": "\(switchboards.all.map(\.name).joined(separator: ","))",
            "sessions": "\(operations.book.withLock { $0.activeSessionCount })",
        ])
    }

    /// Stops the threads and closes every socket. Live sessions stay in the journal, so the next
    /// `start()` (of this or a new process) restores them.
    public func stop() {
        guard let running = threads.withLock({ threads -> RunningThreads? in
            defer { threads = nil }
            return threads
        }) else { return }
        running.stop.signal()
        running.housekeeper?.join()
        for t in running.forwarding { t.join() }
        operations.book.withLock { book in
            book.serving = false
            // The journal keeps the live sessions and their latest latches for the next start.
            operations.compactStore(book: book)
            closeSessions(book: &book)
        }
        operations.store?.close()
        logger.info("relay stopped")
    }

    /// Closes every session's sockets, the epoll sets and the shared sockets (their steering
    /// stops), and forgets the sessions in memory (not in the journal).
    private func closeSessions(book: inout SessionBook) {
        for shard in operations.shards {
            shard.withLock { sh in
                sh.closeAll()
                sh.closeEpoll()
            }
        }
        book.forgetSessions(switchboards: switchboards)
        if book.sharedSockets {
            configuration.sharedSockets?.stop()
            book.sharedSockets = false
        }
    }

    /// One housekeeping round. The housekeeping thread calls it; a host that runs none (tests)
    /// calls it itself.
    public func housekeep() {
        operations.housekeepingRound()
    }
}
