import IPTRTPProxyCore

/// The seam for kernel forwarding (nftables). `RelayConfiguration.offload` is nil by default: every
/// packet then goes through user space.
/// The engine calls it when a stream's two clients are
/// both latched and fixed (no always-learn): `install`; when a latch moves: `update`; when the
/// stream stops being fixed, or its session is deleted or expires: `remove`. While a stream is
/// offloaded the engine reads `counters` to keep the session alive and its counters current.
///
/// The engine calls these from its control path and its housekeeping thread, never from a
/// forwarding thread, one call at a time (its `OffloadCoordinator` holds a lock around each), so
/// an implementation needs no lock of its own for that; it is `Sendable` because the engine that
/// holds it is shared between threads.
public protocol StreamOffload: AnyObject, Sendable {
    /// A short name for `info` (`none`, `nftables`).
    var name: String { get }
    /// Starts forwarding `stream` in the kernel. Throwing leaves it to user space.
    func install(_ stream: OffloadedStream) throws
    /// A client of an offloaded stream moved; forward to the new addresses.
    func update(_ stream: OffloadedStream) throws
    /// Stops forwarding the stream in the kernel (user space takes over, or the session ended).
    func remove(_ key: OffloadedStream.Key)
    /// Packets and bytes the kernel forwarded for the stream since `install`, per client side
    /// (index 0 = from the client on gate A's side); nil when unknown.
    func counters(_ key: OffloadedStream.Key) -> OffloadCounters?
}

/// Thrown by `install` or `update` when the kernel's table of streams is full: the stream stays
/// in user space, and `stats` counts it (`offload.table-full`).
public struct OffloadTableFull: Error, Sendable, CustomStringConvertible {
    /// What was refused, for the log.
    public var description: String

    /// Creates the error.
    public init(_ description: String) { self.description = description }
}

/// One stream (RTP or RTCP) of one session, as the kernel forwards it: a packet from
/// `clients[s]` to `gates[s]` leaves from `gates[1-s]` to `clients[1-s]`.
public struct OffloadedStream: Hashable, Sendable {
    /// Names the stream.
    public struct Key: Hashable, Sendable {
        /// The switchboard.
        public var switchboard: String
        /// The session.
        public var session: SessionHandle
        /// 0 = RTP, 1 = RTCP.
        public var stream: Int

        /// Creates the key.
        public init(switchboard: String, session: SessionHandle, stream: Int) {
            self.switchboard = switchboard
            self.session = session
            self.stream = stream
        }
    }

    /// Which stream.
    public var key: Key
    /// The relay's address and port on gate A (index 0) and gate B (index 1).
    public var gates: [Endpoint]
    /// The latched client on gate A's side (index 0) and on gate B's side (index 1).
    public var clients: [Endpoint]

    /// Creates the description.
    public init(key: Key, gates: [Endpoint], clients: [Endpoint]) {
        self.key = key
        self.gates = gates
        self.clients = clients
    }
}

/// Kernel counters of an offloaded stream, per client side, since it was installed.
public struct OffloadCounters: Hashable, Sendable {
    /// Packets from the client on side A (index 0) and B (index 1).
    public var packets: [UInt64]
    /// Bytes from the client on side A and B.
    public var bytes: [UInt64]

    /// Creates counters.
    public init(packets: [UInt64], bytes: [UInt64]) {
        self.packets = packets
        self.bytes = bytes
    }
}
