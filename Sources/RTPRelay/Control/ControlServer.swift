import Glibc
import IPTRTPProxyAuth
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import IPTRTPProxyTLS
import Logging
import Synchronization

/// Serves the control protocol (docs/control-protocol.md) for a `RelayEngine` on a Unix socket
/// (mode 0660) and optionally on TCP, where every connection must first answer the relay's
/// challenge with the shared secret. One thread, one epoll loop; requests are answered in order
/// per connection, one at a time. Every listener has its own limits (`ControlLimits`).
///
/// A malformed request is answered with an error and the connection stays usable; a line longer
/// than the protocol allows, a wrong proof, or a limit reached closes the connection. Nothing a
/// client sends reaches the forwarding threads except through the engine's `MediaPlane` calls.
public final class ControlServer: Sendable {
    /// Where to listen.
    public struct Endpoints: Sendable {
        /// Unix socket path.
        public var unixPath: String?
        /// TCP address (bind loopback unless media hosts are remote).
        public var tcp: Endpoint?
        /// TLS address and its server context (certificate, key, optional client CA).
        public var tls: Endpoint?
        public var tlsContext: TLSContext?
        /// The secret TCP and TLS clients prove they hold; required with either (at least 16 bytes).
        public var secret: String?
        /// Limits of the Unix socket.
        public var unixLimits: ControlLimits
        /// Limits of each network listener.
        public var networkLimits: ControlLimits

        /// Creates the endpoints.
        public init(
            unixPath: String? = nil, tcp: Endpoint? = nil, tls: Endpoint? = nil, tlsContext: TLSContext? = nil,
            secret: String? = nil, unixLimits: ControlLimits = .unixSocket, networkLimits: ControlLimits = .network
        ) {
            self.unixPath = unixPath
            self.tcp = tcp
            self.tls = tls
            self.tlsContext = tlsContext
            self.secret = secret
            self.unixLimits = unixLimits
            self.networkLimits = networkLimits
        }
    }

    private let engine: RelayEngine
    private let endpoints: Endpoints
    private let logger: Logger
    /// The server thread and its stop pipe while started.
    private let running = Mutex<(stop: WakeupPipe, thread: PosixThread)?>(nil)

    /// Creates the server; nothing is opened before `start()`.
    public init(engine: RelayEngine, endpoints: Endpoints, logger: Logger = Logger(label: "iptrtpproxy.control")) {
        self.engine = engine
        self.endpoints = endpoints
        self.logger = logger
    }

    deinit { stop() }

    /// Opens the listeners and starts the server thread.
    public func start() throws {
        try running.withLock { running in
            guard running == nil else { return }
            if endpoints.tcp != nil || endpoints.tls != nil {
                guard let secret = endpoints.secret, secret.utf8.count >= ControlChallenge.minimumSecretLength else {
                    throw MediaPlaneError(
                        "a TCP or TLS control listener needs a shared secret of at least \(ControlChallenge.minimumSecretLength) bytes")
                }
            }
            if endpoints.tls != nil && endpoints.tlsContext == nil {
                throw MediaPlaneError("a TLS control listener needs a certificate and key")
            }
            var listeners: [ControlLoop.Listener] = []
            do {
                if let path = endpoints.unixPath {
                    listeners.append(.init(fd: try ControlListener.unix(path: path), kind: .unix, limits: endpoints.unixLimits))
                }
                if let tcp = endpoints.tcp {
                    listeners.append(.init(fd: try ControlListener.tcp(tcp), kind: .tcp, limits: endpoints.networkLimits))
                }
                if let tls = endpoints.tls, let context = endpoints.tlsContext {
                    listeners.append(.init(fd: try ControlListener.tcp(tls), kind: .tls(context), limits: endpoints.networkLimits))
                }
            } catch {
                for l in listeners { close(l.fd) }
                if let path = endpoints.unixPath, listeners.contains(where: { $0.isUnix }) { unlink(path) }
                throw error
            }
            let stop = try WakeupPipe()
            let loop = ControlLoop(engine: engine, endpoints: endpoints, logger: logger, listeners: listeners)
            running = (stop, try PosixThread(name: "ipt-control") { loop.run(stop: stop) })
        }
        logger.info("control listening", metadata: [
            "unix": "\(endpoints.unixPath ?? "-")", "tcp": "\(endpoints.tcp?.description ?? "-")",
            "tls": "\(endpoints.tls?.description ?? "-")",
        ])
    }

    /// Stops the thread, closes every connection and removes the Unix socket file.
    public func stop() {
        guard let (stop, thread) = running.withLock({ running in
            defer { running = nil }
            return running
        }) else { return }
        stop.signal()
        thread.join()
    }
}
