import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Logging

/// How a `RelayEngine` runs: the switchboards it serves and the knobs of its forwarding.
public struct RelayConfiguration: Sendable {
    /// The switchboards (cfg file plus `switchboard` parameters).
    public var switchboards: SwitchboardSet
    /// Forwarding threads, each with its own epoll set; default one per online CPU.
    public var workerCount: Int
    /// The session journal; nil keeps sessions in memory only (lost on restart).
    public var journalPath: String?
    /// Sync each journal append to disk before the reply (default). Off, a record still survives
    /// the relay's death (page cache), not the host's; call set-up then never waits on the disk.
    public var journalSyncs = true
    /// A session store made by the host (Redis, target RelayRedisStore), used instead of the
    /// journal; nil: the journal if `journalPath` is set.
    package var sessionStore: (any SessionStore)?
    /// Learning window (seconds) for a stream whose requests never gave one.
    public var defaultLearningTimeout: UInt32
    /// Per-stream flood throttle of switchboards that set none (`max-stream-pps`, `max-stream-burst`).
    public var floodLimit: FloodLimit
    /// Microseconds a worker waits after a wakeup at light load so that packets gather into one
    /// batch (fewer wakeups per packet, at most this much added latency); 0 never waits.
    public var coalescingMicroseconds: Int
    /// Milliseconds between housekeeping rounds (expiry, journaling latches, offload); 0 runs no
    /// housekeeping thread (the host calls `housekeep()` itself, as tests do).
    public var housekeepingInterval: Int32
    /// Where time comes from.
    public var clock: RelayClock
    /// Kernel forwarding of fixed streams; nil forwards everything in user space.
    public var offload: (any StreamOffload)?
    /// Shared-socket mode (`iptrtpproxyd --shared-sockets`): the kernel steering that brings every
    /// packet of the gates' ports to one socket per forwarding thread, so sessions bind no
    /// sockets; nil (the default), or when it fails to start: a socket per port.
    public var sharedSockets: (any PortSteering)?
    /// Freed sessions whose four sockets stay bound for the next session on the same ports, so
    /// that allocating it opens no socket and deleting one closes none (30 % of the relay's
    /// CPU per call went to `socket`, `bind`, `epoll_ctl` and `close`). Slots are still drawn
    /// uniformly (the next ports stay unguessable), so every slot is warm once all have been
    /// used. nil (the default): every slot of the switchboards; 0: sockets are closed on delete,
    /// as before. Either way a session keeps its sockets only while live and kept sessions hold at
    /// most three quarters of the file limit (`RLIMIT_NOFILE`), so control connections and stores
    /// always find descriptors; where a new session finds none (EMFILE), kept sockets are closed
    /// first. Unused in shared-socket mode.
    public var keptSessions: Int?
    /// The host's addresses the relay never sends to; nil reads the interfaces (getifaddrs)
    /// when the engine is created.
    public var localAddresses: LocalAddresses?
    /// How session slots are handed out: unpredictably (the default, so that the relay ports of
    /// the next call cannot be guessed); tests that check ports choose round robin.
    public var slotOrder: SessionSlots.Order
    /// Where the engine logs.
    public var logger: Logger
    /// The version `info` reports.
    public var version: String

    /// The default learning window: long enough for a phone's first packets behind NAT.
    public static let defaultLearningWindow: UInt32 = 10

    /// Creates a configuration; everything but the switchboards has a default.
    public init(
        switchboards: SwitchboardSet,
        workerCount: Int = RelayConfiguration.onlineProcessors,
        journalPath: String? = nil,
        defaultLearningTimeout: UInt32 = RelayConfiguration.defaultLearningWindow,
        floodLimit: FloodLimit = FloodLimit(),
        coalescingMicroseconds: Int = RelayConfiguration.defaultCoalescing,
        housekeepingInterval: Int32 = 1000,
        clock: RelayClock = SystemRelayClock(),
        offload: (any StreamOffload)? = nil,
        localAddresses: LocalAddresses? = nil,
        slotOrder: SessionSlots.Order = .unpredictable,
        logger: Logger = Logger(label: "iptrtpproxy.relay"),
        version: String = RelayEngine.version
    ) {
        self.switchboards = switchboards
        self.workerCount = max(1, workerCount)
        self.journalPath = journalPath
        self.defaultLearningTimeout = defaultLearningTimeout
        self.floodLimit = floodLimit
        self.coalescingMicroseconds = min(max(0, coalescingMicroseconds), 999_999)
        self.housekeepingInterval = housekeepingInterval
        self.clock = clock
        self.offload = offload
        self.localAddresses = localAddresses
        self.slotOrder = slotOrder
        self.logger = logger
        self.version = version
    }

    /// Default coalescing wait: none. Measured on a busy 2-core host it saved no CPU (the extra
    /// timer wakeup cost what the fewer readiness wakeups saved) and added latency, with a socket
    /// per port and with shared sockets (where one thread already reads 10-14 packets per wakeup
    /// at 50,000 pps without waiting); it is a knob for hosts with many light streams per core.
    public static let defaultCoalescing = 0

    /// CPUs online now.
    public static var onlineProcessors: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}
