import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import IPTRTPProxyTLS
import Synchronization
import Testing
@testable import IPTRTPProxyClient

/// `ControlSocket` over `tls:` addresses, against a one-connection TLS server on loopback TCP.
@Suite("control socket over TLS")
struct ControlSocketTLSTests {
    /// A server thread that accepts one connection on `listener`, completes the TLS handshake,
    /// greets, and answers one line with `got LINE`; what it saw lands in `log`.
    final class OneShotServer: Sendable {
        let port: UInt16
        private let listener: Int32
        private let log = Log()
        private let thread: PosixThread

        init(address: String, context: TLSContext) throws {
            let listener = try Socket.listening(on: SocketAddress(Endpoint(address: IPAddress(address)!, port: 0)))
            self.listener = listener
            port = boundPort(listener)
            let log = self.log
            thread = try PosixThread(name: "tls-test-server") { OneShotServer.serve(listener, context, log) }
        }

        /// What the server thread did, once it ended.
        func finish() -> [String] {
            thread.join()
            close(listener)
            return log.lines.withLock { $0 }
        }

        final class Log: Sendable {
            let lines = Mutex<[String]>([])
            func add(_ line: String) { lines.withLock { $0.append(line) } }
        }

        private static func serve(_ listener: Int32, _ context: TLSContext, _ log: Log) {
            let end = deadline()
            guard waitFor(listener, Int16(POLLIN), deadline: end), let fd = Socket.accept(from: listener) else {
                log.add("no connection")
                return
            }
            defer { close(fd) }
            guard let session = try? TLSSession(serverOn: fd, context: context) else { return log.add("no session") }
            defer { session.close() }
            var progress = session.handshake()
            while progress == .wantRead || progress == .wantWrite {
                guard waitFor(fd, Int16(progress == .wantRead ? POLLIN : POLLOUT), deadline: end) else { break }
                progress = session.handshake()
            }
            guard progress == .done else { return log.add("handshake \(progress)") }
            log.add("binding tls:" + hex(session.channelBinding() ?? []))
            _ = writeAll(session, Array("iptrtp/2 - hello 00 auth=required\n".utf8), deadline: end)
            switch readLine(session, deadline: end) {
            case .success(let line):
                log.add("got \(line)")
                _ = writeAll(session, Array("got \(line)\n".utf8), deadline: end)
                if case .failure(let e) = readLine(session, deadline: end) { log.add("\(e.outcome)") }  // until the client hangs up
            case .failure(let e):
                log.add("read \(e.outcome)")
            }
        }
    }

    @Test("ControlSocket over tls: verifies the relay, reads and writes lines, and binds to the TLS session", arguments: [
        "tls:127.0.0.1:", "tls:localhost:",
    ])
    func linesOverTLS(prefix: String) throws {
        let certificates = try TestCertificates.shared()
        let server = try OneShotServer(address: "127.0.0.1", context: try serverContext(certificates))
        let address = try ControlAddress(parsing: prefix + String(server.port))
        var binding = ""
        do {
            let socket = try ControlSocket(address, timeout: 5000, tls: try clientContext(certificates))
            let end = deadline()
            #expect(String(decoding: try socket.readLine(deadline: end, maxLength: 4096), as: UTF8.self) == "iptrtp/2 - hello 00 auth=required")
            try socket.write("iptrtp/2 1 ping", deadline: end)
            #expect(String(decoding: try socket.readLine(deadline: end, maxLength: 4096), as: UTF8.self) == "got iptrtp/2 1 ping")
            binding = socket.channelBinding
        }  // the socket hangs up here: the server's last read ends
        #expect(binding.hasPrefix("tls:"))
        #expect(binding.count == 4 + 64)
        #expect(server.finish() == ["binding " + binding, "got iptrtp/2 1 ping", "closed"])
    }

    @Test("ControlSocket refuses a relay whose certificate does not name the address dialled")
    func wrongAddress() throws {
        let certificates = try TestCertificates.shared()
        let server = try OneShotServer(address: "127.0.0.2", context: try serverContext(certificates))
        let address = try ControlAddress(parsing: "tls:127.0.0.2:\(server.port)")
        #expect {
            try ControlSocket(address, timeout: 5000, tls: try clientContext(certificates))
        } throws: { e in
            let message = (e as? MediaPlaneError)?.message ?? "\(e)"
            return message.hasPrefix("control tls:127.0.0.2:\(server.port): TLS handshake failed: ") && message.hasSuffix("(IP address mismatch)")
        }
        #expect(server.finish().first?.hasPrefix("handshake failed(") == true)
    }

    @Test("a TLS handshake that gets no answer ends at the deadline")
    func handshakeTimeout() throws {
        // A listener nobody accepts on: the kernel completes TCP, nobody speaks TLS.
        let listener = try Socket.listening(on: SocketAddress(Endpoint(address: IPAddress("127.0.0.1")!, port: 0)))
        defer { close(listener) }
        let port = boundPort(listener)
        let started = MonotonicClock.milliseconds()
        #expect(throws: MediaPlaneError("control tls:127.0.0.1:\(port): TLS handshake timed out")) {
            try ControlSocket(try ControlAddress(parsing: "tls:127.0.0.1:\(port)"), timeout: 300, tls: try clientContext(try TestCertificates.shared()))
        }
        let took = MonotonicClock.milliseconds() - started
        #expect(took >= 300 && took < 3000)
    }

    @Test("a tls: address without a TLS context is refused before connecting; plain connections bind to 'tcp'")
    func withoutContext() throws {
        #expect(throws: MediaPlaneError("control tls:127.0.0.1:9: tls: needs a CA file")) {
            try ControlSocket(try ControlAddress(parsing: "tls:127.0.0.1:9"), timeout: 1000)
        }
        let listener = try Socket.listening(on: SocketAddress(Endpoint(address: IPAddress("127.0.0.1")!, port: 0)))
        defer { close(listener) }
        let socket = try ControlSocket(try ControlAddress(parsing: "tcp:127.0.0.1:\(boundPort(listener))"), timeout: 1000,
                                       tls: try clientContext(try TestCertificates.shared()))
        #expect(socket.channelBinding == "tcp")
    }

    @Test("tls: addresses parse to the endpoint and keep the host for the certificate check")
    func parsing() throws {
        #expect(try ControlAddress(parsing: "tls:127.0.0.1:7723") == .tls(host: "127.0.0.1", endpoint: Endpoint(address: IPAddress("127.0.0.1")!, port: 7723)))
        #expect(try ControlAddress(parsing: "tls:[::1]:7723") == .tls(host: "::1", endpoint: Endpoint(address: IPAddress("::1")!, port: 7723)))
        #expect(try ControlAddress(parsing: "tls:localhost:7723") == .tls(host: "localhost", endpoint: Endpoint(address: IPAddress("127.0.0.1")!, port: 7723)))
        for text in ["tls:127.0.0.1:7723", "tls:[::1]:7723", "tls:localhost:7723", "tcp:127.0.0.1:7722", "tcp:[::1]:7722", "unix:/run/x.sock"] {
            #expect(try ControlAddress(parsing: text).description == text)
        }
        #expect(try ControlAddress(parsing: "tcp:localhost:7722") == .tcp(Endpoint(address: IPAddress("127.0.0.1")!, port: 7722)))
        for bad in ["tls:relay.example.net:7723", "tls:127.0.0.1", "tls:127.0.0.1:0", "tls::7723", "tls:[127.0.0.1]:7723", "tls:localhost:x"] {
            #expect(throws: MediaPlaneError.self, "\(bad)") { try ControlAddress(parsing: bad) }
        }
    }
}

/// The port an IPv4 socket is bound to.
func boundPort(_ fd: Int32) -> UInt16 {
    var bound = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return UInt16(bigEndian: bound.sin_port)
}
