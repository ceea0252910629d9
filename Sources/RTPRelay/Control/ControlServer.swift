import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Logging
import Synchronization

/// Serves the control protocol (docs/control-protocol.md) for a `RelayEngine` on a Unix socket
/// (mode 0660) and optionally on TCP, where every connection must first present the shared
/// secret. One thread, one poll loop; requests are answered in order per connection.
///
/// A malformed request is answered with an error and the connection stays usable; a line longer
/// than the protocol allows, or a wrong secret, closes the connection. Nothing a client sends
/// reaches the forwarding threads except through the engine's `MediaPlane` calls.
public final class ControlServer: Sendable {
    /// Where to listen.
    public struct Endpoints: Sendable {
        /// Unix socket path.
        public var unixPath: String?
        /// TCP address (bind loopback unless media hosts are remote).
        public var tcp: Endpoint?
        /// The secret TCP clients must present with `auth`; required when `tcp` is set.
        public var secret: String?

        /// Creates the endpoints.
        public init(unixPath: String? = nil, tcp: Endpoint? = nil, secret: String? = nil) {
            self.unixPath = unixPath
            self.tcp = tcp
            self.secret = secret
        }
    }

    /// Most connections served at once; more wait in the listen backlog.
    public static let maxConnections = 256
    /// Longest unanswered output kept for one client before it is dropped.
    static let maxPendingOutput = 64 << 20

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
            if endpoints.tcp != nil && (endpoints.secret ?? "").isEmpty {
                throw MediaPlaneError("a TCP control listener needs a shared secret")
            }
            var listeners: [(fd: Int32, isTCP: Bool)] = []
            do {
                if let path = endpoints.unixPath { listeners.append((try ControlListener.unix(path: path), false)) }
                if let tcp = endpoints.tcp { listeners.append((try ControlListener.tcp(tcp), true)) }
            } catch {
                for l in listeners { close(l.fd) }
                if endpoints.unixPath != nil && !listeners.isEmpty, let path = endpoints.unixPath { unlink(path) }
                throw error
            }
            let stop = try WakeupPipe()
            let loop = ControlLoop(engine: engine, endpoints: endpoints, logger: logger, listeners: listeners)
            running = (stop, try PosixThread(name: "ipt-control") { loop.run(stop: stop) })
        }
        logger.info("control listening", metadata: [
            "unix": "\(endpoints.unixPath ?? "-")", "tcp": "\(endpoints.tcp?.description ?? "-")",
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

    /// Compares secrets in time that depends only on their lengths.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return diff == 0
    }
}

/// The server thread's state and loop: the listeners and connections belong to it alone; it
/// closes them (and removes the Unix socket file) when it ends.
final class ControlLoop {
    private let engine: RelayEngine
    private let endpoints: ControlServer.Endpoints
    private let logger: Logger
    private var listeners: [(fd: Int32, isTCP: Bool)]
    private var connections: [ControlConnection] = []

    init(engine: RelayEngine, endpoints: ControlServer.Endpoints, logger: Logger, listeners: [(fd: Int32, isTCP: Bool)]) {
        self.engine = engine
        self.endpoints = endpoints
        self.logger = logger
        self.listeners = listeners
    }

    private func closeAll() {
        for l in listeners { close(l.fd) }
        listeners = []
        for c in connections { close(c.fd) }
        connections = []
        if let path = endpoints.unixPath { unlink(path) }
    }

    func run(stop: WakeupPipe) {
        defer { closeAll() }
        var fds: [pollfd] = []
        while true {
            fds.removeAll(keepingCapacity: true)
            fds.append(pollfd(fd: stop.readFD, events: Int16(POLLIN), revents: 0))
            for l in listeners {
                fds.append(pollfd(fd: l.fd, events: connections.count < ControlServer.maxConnections ? Int16(POLLIN) : 0, revents: 0))
            }
            for c in connections {
                fds.append(pollfd(fd: c.fd, events: Int16(POLLIN) | (c.output.isEmpty ? 0 : Int16(POLLOUT)), revents: 0))
            }
            let n = retryingOnInterrupt { poll(&fds, nfds_t(fds.count), -1) }
            if n < 0 {
                logger.critical("control server: poll failed: \(SystemError("poll"))")
                return
            }
            if fds[0].revents != 0 { return }
            for (i, l) in listeners.enumerated() where fds[1 + i].revents & Int16(POLLIN) != 0 {
                accept(from: l.fd, isTCP: l.isTCP)
            }
            let base = 1 + listeners.count
            var closed = Set<Int32>()
            for (i, c) in connections.enumerated() where base + i < fds.count {
                let revents = fds[base + i].revents
                if revents == 0 { continue }
                if !serve(c, readable: revents & Int16(POLLIN | POLLHUP | POLLERR) != 0, writable: revents & Int16(POLLOUT) != 0) {
                    closed.insert(c.fd)
                    close(c.fd)
                }
            }
            if !closed.isEmpty { connections.removeAll { closed.contains($0.fd) } }
        }
    }

    private func accept(from listener: Int32, isTCP: Bool) {
        while connections.count < ControlServer.maxConnections {
            guard let fd = Socket.accept(from: listener) else { return }
            connections.append(ControlConnection(fd: fd, requiresSecret: isTCP))
        }
    }

    /// Reads, answers and writes for one connection; false when it must be closed.
    private func serve(_ c: ControlConnection, readable: Bool, writable: Bool) -> Bool {
        if readable {
            var chunk = [UInt8](repeating: 0, count: 8192)
            let n = chunk.withUnsafeMutableBytes { raw in retryingOnInterrupt { recv(c.fd, raw.baseAddress, raw.count, 0) } }
            if n == 0 { return false }
            if n < 0 { return lastCallWouldBlock }
            c.input.append(contentsOf: chunk[0..<n])
            while let newline = c.input.firstIndex(of: 10) {
                let line = Array(c.input[c.input.startIndex..<newline])
                c.input.removeSubrange(c.input.startIndex...newline)
                if !answer(c, line) {
                    flush(c)
                    return false
                }
            }
            if c.input.count > ControlProtocol.maxRequestLength + 1 {
                engine.noteControlRequest(failed: true)
                c.queue(ControlReply(id: "-", outcome: .error("request longer than \(ControlProtocol.maxRequestLength) bytes")))
                flush(c)
                return false
            }
        }
        if writable || !c.output.isEmpty { flush(c) }
        return c.output.count <= ControlServer.maxPendingOutput && !c.broken
    }

    /// Answers one line; false when the connection must close after the reply.
    private func answer(_ c: ControlConnection, _ line: [UInt8]) -> Bool {
        if line.isEmpty || line == [13] { return true }
        let request: ControlRequest
        do {
            request = try ControlProtocol.decodeRequest(line)
        } catch let e as ControlProtocolError {
            engine.noteControlRequest(failed: true)
            c.queue(ControlReply(id: e.id ?? "-", outcome: .error(e.message)))
            return true
        } catch {
            return false
        }
        if case .auth(let secret) = request.command {
            guard let expected = endpoints.secret, !expected.isEmpty else {
                c.queue(ControlReply(id: request.id, outcome: .ok("")))
                return true
            }
            if ControlServer.constantTimeEqual(secret, expected) {
                c.authenticated = true
                c.queue(ControlReply(id: request.id, outcome: .ok("")))
                return true
            }
            engine.noteControlRequest(failed: true)
            logger.warning("control: wrong secret from a TCP client; connection closed")
            c.queue(ControlReply(id: request.id, outcome: .error("wrong secret")))
            return false
        }
        if c.requiresSecret && !c.authenticated {
            engine.noteControlRequest(failed: true)
            c.queue(ControlReply(id: request.id, outcome: .error("authenticate first: auth SECRET")))
            return true
        }
        c.queue(engine.reply(to: request))
        return true
    }

    private func flush(_ c: ControlConnection) {
        while !c.output.isEmpty {
            let n = c.output.withUnsafeBytes { raw in
                retryingOnInterrupt { send(c.fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) }
            }
            if n > 0 {
                c.output.removeFirst(n)
            } else {
                if n < 0 && !lastCallWouldBlock { c.broken = true }
                return
            }
        }
    }
}

/// One client connection of the control server.
final class ControlConnection {
    let fd: Int32
    let requiresSecret: Bool
    var authenticated = false
    var broken = false
    var input: [UInt8] = []
    var output: [UInt8] = []

    init(fd: Int32, requiresSecret: Bool) {
        self.fd = fd
        self.requiresSecret = requiresSecret
    }

    func queue(_ reply: ControlReply) {
        output.append(contentsOf: ControlProtocol.encode(reply).utf8)
        output.append(10)
    }
}
