import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Logging
import Synchronization

/// `GET /metrics` over HTTP/1.0 for the relay embedded in Kamailio, where swift-nio cannot run:
/// its event loop crashes inside the module (a statically linked runtime in a dlopen'ed object,
/// in a process forked from Kamailio; SIGSEGV in NIOPosix's channel activation, seen with gdb),
/// so `iptrtpproxyd` serves with `MetricsEndpoint` (swift-nio) and the module with this.
///
/// One thread polls the listener and every connection, none blocking: a connection has
/// `requestTimeout` ms from accept to a complete request head and its whole response, at most
/// `maxConnections` are open (more are closed on accept), one request per connection. So a
/// client that sends one byte a second delays no other scrape.
public final class PollingMetricsEndpoint: Sendable {
    private let address: Endpoint
    private let logger: Logger
    private let limits: MetricsEndpoint.Limits
    private let renderer: MetricsRenderer
    /// The listener, the thread and its stop pipe while started.
    private let running = Mutex<(listener: Int32, stop: WakeupPipe, thread: PosixThread)?>(nil)

    /// Creates the endpoint; nothing is opened before `start()`. `limits.idleTimeout` is unused
    /// (one request per connection).
    public init(
        engine: RelayEngine, address: Endpoint, logger: Logger = Logger(label: "iptrtpproxy.metrics"),
        limits: MetricsEndpoint.Limits = MetricsEndpoint.Limits(maxConnections: 64)
    ) {
        self.address = address
        self.logger = logger
        self.limits = limits
        renderer = MetricsRenderer(engine: engine)
    }

    deinit { stop() }

    /// Listens and starts the thread (`ipt-metrics`).
    public func start() throws {
        try running.withLock { running in
            guard running == nil else { return }
            let listener: Int32
            do {
                listener = try ControlListener.tcp(address)
            } catch {
                throw MediaPlaneError("metrics: cannot listen on \(address): \(error)")
            }
            do {
                let stop = try WakeupPipe()
                let renderer = self.renderer, limits = self.limits
                running = (listener, stop, try PosixThread(name: "ipt-metrics") {
                    PollingMetricsEndpoint.serve(listener: listener, stop: stop, renderer: renderer, limits: limits)
                })
            } catch {
                close(listener)
                throw error
            }
        }
        logger.info("metrics listening", metadata: ["address": "\(address)"])
    }

    /// Stops the thread and closes the listener and every connection.
    public func stop() {
        guard let (listener, stop, thread) = running.withLock({ running in
            defer { running = nil }
            return running
        }) else { return }
        stop.signal()
        thread.join()
        close(listener)
    }

    /// One connection: what it sent so far, what is left to send, and its deadline.
    private struct Connection {
        var fd: Int32
        var request: [UInt8] = []
        var response: [UInt8] = []
        var sent = 0
        var deadline: Int64
    }

    private static func serve(listener: Int32, stop: WakeupPipe, renderer: MetricsRenderer, limits: MetricsEndpoint.Limits) {
        var connections: [Connection] = []
        defer { for c in connections { close(c.fd) } }
        var chunk = [UInt8](repeating: 0, count: 2048)
        while true {
            let now = MonotonicClock.nanoseconds()
            var fds = [pollfd(fd: stop.readFD, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
            for c in connections {
                fds.append(pollfd(fd: c.fd, events: Int16(c.response.isEmpty ? POLLIN : POLLOUT), revents: 0))
            }
            let nearest = connections.map(\.deadline).min().map { max(0, ($0 - now) / 1_000_000) + 1 } ?? 1000
            let n = retryingOnInterrupt { poll(&fds, nfds_t(fds.count), Int32(min(nearest, 1000))) }
            if n < 0 || fds[0].revents != 0 { return }
            let after = MonotonicClock.nanoseconds()
            var keep: [Connection] = []
            for (i, var c) in connections.enumerated() {
                let events = fds[i + 2].revents
                var open = after < c.deadline
                if open && events & Int16(POLLIN | POLLHUP | POLLERR) != 0 && c.response.isEmpty {
                    let got = chunk.withUnsafeMutableBytes { recv(c.fd, $0.baseAddress, $0.count, 0) }
                    if got <= 0 {
                        open = got < 0 && (errno == EAGAIN || errno == EINTR)
                    } else {
                        c.request += chunk[0..<got]
                        if let response = response(to: c.request, renderer: renderer) {
                            c.response = response
                        } else if c.request.count > 8192 {
                            open = false
                        }
                    }
                }
                if open && !c.response.isEmpty && events & Int16(POLLOUT) != 0 {
                    let sent = c.response.withUnsafeBytes { send(c.fd, $0.baseAddress! + c.sent, $0.count - c.sent, Int32(MSG_NOSIGNAL)) }
                    if sent > 0 { c.sent += sent } else if !(errno == EAGAIN || errno == EINTR) { open = false }
                    if c.sent == c.response.count { open = false }
                }
                if open { keep.append(c) } else { close(c.fd) }
            }
            connections = keep
            if fds[1].revents != 0 {
                while let fd = Socket.accept(from: listener) {
                    if connections.count >= limits.maxConnections {
                        close(fd)
                    } else {
                        connections.append(Connection(fd: fd, deadline: after + limits.requestTimeout * 1_000_000))
                    }
                }
            }
        }
    }

    /// The response once `request` holds a complete head; nil while it does not.
    private static func response(to request: [UInt8], renderer: MetricsRenderer) -> [UInt8]? {
        guard let end = headEnd(request) else { return nil }
        let line = String(decoding: request[..<end].prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = line.split(separator: " ")
        guard parts.count >= 2, parts[1] == "/metrics" || parts[1] == "/" else {
            return Array("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        }
        guard parts[0] == "GET" || parts[0] == "HEAD" else {
            return Array("HTTP/1.0 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        }
        let body = renderer.render()
        let head = Array("HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8)
        return parts[0] == "HEAD" ? head : head + body
    }

    /// Where the request head ends (after CRLF CRLF or LF LF), if it has.
    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        var i = 0
        while i + 1 < bytes.count {
            if bytes[i] == 10 && bytes[i + 1] == 10 { return i }
            if i + 3 < bytes.count && bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return i }
            i += 1
        }
        return nil
    }
}
