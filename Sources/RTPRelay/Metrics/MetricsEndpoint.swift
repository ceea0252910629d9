import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Logging
import Synchronization

/// Serves `GET /metrics` (Prometheus text format) over plain HTTP/1.0 on one TCP address,
/// loopback unless configured otherwise. One thread; one request per connection.
public final class MetricsEndpoint: Sendable {
    private let engine: RelayEngine
    private let address: Endpoint
    private let logger: Logger
    /// The listener, the thread and its stop pipe while started.
    private let running = Mutex<(listener: Int32, stop: WakeupPipe, thread: PosixThread)?>(nil)

    /// Creates the endpoint; nothing is opened before `start()`.
    public init(engine: RelayEngine, address: Endpoint, logger: Logger = Logger(label: "iptrtpproxy.metrics")) {
        self.engine = engine
        self.address = address
        self.logger = logger
    }

    deinit { stop() }

    /// Listens and starts the thread.
    public func start() throws {
        try running.withLock { running in
            guard running == nil else { return }
            let listener = try ControlListener.tcp(address)
            do {
                let stop = try WakeupPipe()
                let engine = self.engine
                running = (listener, stop, try PosixThread(name: "ipt-metrics") {
                    MetricsEndpoint.serve(listener: listener, engine: engine, metrics: RelayMetrics(), stop: stop)
                })
            } catch {
                close(listener)
                throw error
            }
        }
        logger.info("metrics listening", metadata: ["address": "\(address)"])
    }

    /// Stops the thread and closes the listener.
    public func stop() {
        guard let (listener, stop, thread) = running.withLock({ running in
            defer { running = nil }
            return running
        }) else { return }
        stop.signal()
        thread.join()
        close(listener)
    }

    private static func serve(listener: Int32, engine: RelayEngine, metrics: RelayMetrics, stop: WakeupPipe) {
        var fds = [pollfd(fd: stop.readFD, events: Int16(POLLIN), revents: 0), pollfd(fd: listener, events: Int16(POLLIN), revents: 0)]
        while true {
            fds[0].revents = 0
            fds[1].revents = 0
            let n = retryingOnInterrupt { poll(&fds, 2, -1) }
            if n < 0 { return }
            if fds[0].revents != 0 { return }
            if fds[1].revents != 0, let fd = Socket.accept(from: listener) {
                respond(fd, engine: engine, metrics: metrics)
                close(fd)
            }
        }
    }

    /// Reads the request head (bounded in size and time) and writes the response.
    private static func respond(_ fd: Int32, engine: RelayEngine, metrics: RelayMetrics) {
        // accept4 made it non-blocking; this exchange is a short blocking one with timeouts.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var head: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        while head.count < 8192 {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { return }
            head.append(contentsOf: chunk[0..<n])
            if head.count >= 4, head.suffix(4) == [13, 10, 13, 10] || head.suffix(2) == [10, 10] { break }
        }
        let requestLine = String(decoding: head.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let parts = requestLine.split(separator: " ")
        let response: [UInt8]
        if parts.count >= 2, parts[0] == "GET", parts[1] == "/metrics" || parts[1] == "/" {
            let body = metrics.render(engine.statistics())
            response = Array("HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n".utf8) + body
        } else {
            response = Array("HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".utf8)
        }
        var offset = 0
        while offset < response.count {
            let n = response.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }
}
