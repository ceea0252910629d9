/// What one control listener allows (docs/control-protocol.md, "Limits"). Every listener has its
/// own, so strangers on the network port never use up what the local Unix socket needs.
public struct ControlLimits: Hashable, Sendable {
    /// Connections at once; when full, the oldest unauthenticated connection makes room.
    public var maxConnections: Int
    /// Unauthenticated connections from one peer address.
    public var maxUnauthenticatedPerAddress: Int
    /// Milliseconds a connection has to authenticate (0: it need not).
    public var authTimeout: Int64
    /// Milliseconds without a request before a connection is closed (0: never).
    public var idleTimeout: Int64
    /// Milliseconds a reply may stay unread before the connection is closed.
    public var replyTimeout: Int64
    /// Failed authentications one peer address may make at once, and per second after that.
    public var failedAuthBurst: Double
    public var failedAuthPerSecond: Double

    /// Creates limits.
    public init(
        maxConnections: Int, maxUnauthenticatedPerAddress: Int, authTimeout: Int64, idleTimeout: Int64,
        replyTimeout: Int64 = 10_000, failedAuthBurst: Double = 20, failedAuthPerSecond: Double = 10
    ) {
        self.maxConnections = max(1, maxConnections)
        self.maxUnauthenticatedPerAddress = max(1, maxUnauthenticatedPerAddress)
        self.authTimeout = max(0, authTimeout)
        self.idleTimeout = max(0, idleTimeout)
        self.replyTimeout = max(1, replyTimeout)
        self.failedAuthBurst = failedAuthBurst
        self.failedAuthPerSecond = failedAuthPerSecond
    }

    /// The local Unix socket: many connections (one per SIP worker), no authentication, no idle limit.
    public static let unixSocket = ControlLimits(
        maxConnections: 512, maxUnauthenticatedPerAddress: 512, authTimeout: 0, idleTimeout: 0)

    /// A TCP or TLS listener: few strangers per address, seconds to authenticate.
    public static let network = ControlLimits(
        maxConnections: 256, maxUnauthenticatedPerAddress: 8, authTimeout: 5_000, idleTimeout: 600_000)
}
