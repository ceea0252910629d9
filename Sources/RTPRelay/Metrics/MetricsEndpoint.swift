import IPTRTPProxyCore
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Serves `GET /metrics` (Prometheus text format) over HTTP/1.1 on one TCP address, loopback
/// unless configured otherwise, with swift-nio: one event-loop thread serves every connection
/// without blocking on any, so a client that sends one byte a second delays nobody's scrape.
/// A connection's first request must arrive complete within `Limits.requestTimeout`, a keep-alive
/// connection's next one within `Limits.idleTimeout`, and at most `Limits.maxConnections` are open.
public final class MetricsEndpoint: Sendable {
    /// Bounds on what one client may hold (no NIO type here: callers need not import it).
    public struct Limits: Sendable {
        /// Milliseconds from a connection to its complete first request, and to write a response.
        public var requestTimeout: Int64 = 5000
        /// Milliseconds a keep-alive connection has for its next request after a response.
        public var idleTimeout: Int64 = 30000
        /// Connections open at once; more are closed on accept.
        public var maxConnections: Int = 256

        /// The defaults, or the bounds given.
        public init(requestTimeout: Int64 = 5000, idleTimeout: Int64 = 30000, maxConnections: Int = 256) {
            self.requestTimeout = requestTimeout
            self.idleTimeout = idleTimeout
            self.maxConnections = maxConnections
        }
    }

    private let address: Endpoint
    private let logger: Logger
    private let limits: Limits
    private let renderer: MetricsRenderer
    /// The event loop and the listening channel while started.
    private let running = Mutex<(group: MultiThreadedEventLoopGroup, channel: Channel)?>(nil)

    /// Creates the endpoint; nothing is opened before `start()`.
    public init(
        engine: RelayEngine, address: Endpoint, logger: Logger = Logger(label: "iptrtpproxy.metrics"),
        limits: Limits = Limits()
    ) {
        self.address = address
        self.logger = logger
        self.limits = limits
        self.renderer = MetricsRenderer(engine: engine)
    }

    deinit { stop() }

    /// Listens and starts the event-loop thread.
    public func start() throws {
        try running.withLock { running in
            guard running == nil else { return }
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let renderer = self.renderer, limits = self.limits, logger = self.logger
            let connections = ConnectionCount(limit: limits.maxConnections)
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 256)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    guard connections.enter() else {
                        logger.warning("metrics: \(limits.maxConnections) connections open; one more refused")
                        return channel.close()
                    }
                    channel.closeFuture.whenComplete { _ in connections.leave() }
                    return channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.configureHTTPServerPipeline(withErrorHandling: true)
                        try sync.addHandler(MetricsHTTPHandler(
                            renderer: renderer, requestTimeout: .milliseconds(limits.requestTimeout),
                            idleTimeout: .milliseconds(limits.idleTimeout)))
                    }
                }
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelOption(.maxMessagesPerRead, value: 4)
            do {
                let nioAddress = try NIOCore.SocketAddress(ipAddress: address.address.description, port: Int(address.port))
                running = (group, try bootstrap.bind(to: nioAddress).wait())
            } catch {
                try? group.syncShutdownGracefully()
                throw MediaPlaneError("metrics: cannot listen on \(address): \(error)")
            }
        }
        logger.info("metrics listening", metadata: ["address": "\(address)"])
    }

    /// Closes the listener and every connection, and stops the thread.
    public func stop() {
        guard let (group, channel) = running.withLock({ running in
            defer { running = nil }
            return running
        }) else { return }
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }
}

/// Connections open now, against a limit (touched from the event loop and at close).
private final class ConnectionCount: Sendable {
    private let count = Mutex(0)
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    /// Counts one more; false (and not counted) at the limit.
    func enter() -> Bool {
        count.withLock { n in
            guard n < limit else { return false }
            n += 1
            return true
        }
    }

    func leave() { count.withLock { $0 -= 1 } }
}
