import Glibc
import IPTRTPProxyAuth
import IPTRTPProxyClient
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Testing
@testable import RTPRelay

/// The control server and the client library over real sockets.
@Suite("relay control socket")
struct RelayControlTests {
    /// Sends raw lines on a fresh Unix connection and returns the reply lines (the greeting left out).
    func raw(_ path: String, _ lines: [[UInt8]], expectReplies: Int) -> [String] {
        Array(rawWithGreeting(path, lines, expectReplies: expectReplies + 1).dropFirst())
    }

    /// Sends raw lines on a fresh Unix connection and returns every line the relay sent.
    func rawWithGreeting(_ path: String, _ lines: [[UInt8]], expectReplies: Int) -> [String] {
        guard let address = try? SocketAddress(unixPath: path), let fd = try? Socket.connected(to: address, timeout: 2000) else {
            return []
        }
        defer { close(fd) }
        for line in lines { _ = line.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while data.filter({ $0 == 10 }).count < expectReplies {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 3000) == 1 else { break }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test("malformed requests get error replies with their id; the connection and the relay keep working")
    func malformedRequests() throws {
        let h = try RelayHarness(gateA: "127.0.20.1", gateB: "127.0.20.2", port: 32000)
        let path = "/tmp/iptrtpproxy-test-control-\(getpid()).sock"
        let server = ControlServer(engine: h.engine, endpoints: .init(unixPath: path))
        try server.start()
        defer { server.stop(); h.engine.stop() }

        let replies = raw(path, [
            Array("hello relay\n".utf8),
            Array("iptrtp/2 1 alloc pub a.rtp=999.1.1.1:4000\n".utf8),
            [0x69, 0x70, 0xff, 0xfe, 0x00, 10],
            Array("iptrtp/2 2 delete pub 5/1\n".utf8),
            Array("iptrtp/2 3 update nosuch 1/1\n".utf8),
            Array("iptrtp/2 4 ping\n".utf8),
        ], expectReplies: 6)
        #expect(replies.count == 6)
        #expect(replies[0].hasPrefix("iptrtp/2 - error expected 'iptrtp/2 <id> <command>"))
        #expect(replies[1].hasPrefix("iptrtp/2 1 error a.rtp must be ADDRESS:PORT"))
        #expect(replies[2].hasPrefix("iptrtp/2 - error request must be printable ASCII"))
        #expect(replies[3] == "iptrtp/2 2 error switchboard 'pub': no session 5/1")
        #expect(replies[4] == "iptrtp/2 3 error unknown switchboard 'nosuch'")
        #expect(replies[5] == "iptrtp/2 4 ok pong")

        // A line longer than the protocol allows closes that connection only.
        let long = raw(path, [Array(repeating: UInt8(ascii: "a"), count: 70_000)], expectReplies: 1)
        #expect(long.first?.hasPrefix("iptrtp/2 - error request longer than") == true)

        let client = try RelayControlClient("unix:" + path)
        try client.ping()
        #expect(try client.stats().controlErrors == 6)
    }

    @Test("the socket file is created with mode 0660 and removed on stop")
    func socketMode() throws {
        let h = try RelayHarness(gateA: "127.0.21.1", gateB: "127.0.21.2", port: 32100)
        let path = "/tmp/iptrtpproxy-test-mode-\(getpid()).sock"
        let server = ControlServer(engine: h.engine, endpoints: .init(unixPath: path))
        try server.start()
        var st = stat()
        #expect(stat(path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o660)
        // A second server on the same path refuses to steal a live socket.
        let second = ControlServer(engine: h.engine, endpoints: .init(unixPath: path))
        #expect(throws: MediaPlaneError.self) { try second.start() }
        server.stop()
        #expect(access(path, F_OK) != 0)
        h.engine.stop()
    }

    @Test("the client is a MediaPlane: the script functions allocate, update and delete through the relay")
    func clientAsMediaPlane() throws {
        let h = try RelayHarness(gateA: "127.0.22.1", gateB: "127.0.22.2", port: 32200)
        let path = "/tmp/iptrtpproxy-test-plane-\(getpid()).sock"
        let server = ControlServer(engine: h.engine, endpoints: .init(unixPath: path))
        try server.start()
        defer { server.stop(); h.engine.stop() }

        let client = try RelayControlClient("unix:" + path)
        let functions = ScriptFunctions(switchboards: h.engine.switchboards, plane: client)
        var selects = SelectValues()
        let offer = Array("v=0\r\no=a 1 1 IN IP4 127.0.22.10\r\ns=-\r\nc=IN IP4 127.0.22.10\r\nt=0 0\r\nm=audio 33000 RTP/AVP 0\r\n".utf8)
        let alloc = functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: offer, contentType: "application/sdp", selects: &selects)
        #expect(alloc.succeeded, "\(alloc.error ?? "")")
        let ids = try #require(selects.sessionIDs)
        #expect(String(decoding: alloc.body ?? [], as: UTF8.self).contains("c=IN IP4 127.0.22.2\r\nt=0 0\r\nm=audio 32200 RTP/AVP 0"))

        let answer = Array("v=0\r\no=b 1 1 IN IP4 127.0.22.20\r\ns=-\r\nc=IN IP4 127.0.22.20\r\nt=0 0\r\nm=audio 34000 RTP/AVP 0\r\n".utf8)
        let update = functions.update(flags: ScriptFlags(0), sessionIDs: ids, body: answer, contentType: "application/sdp", selects: &selects)
        #expect(update.succeeded, "\(update.error ?? "")")

        let listed = try client.list(switchboard: "pub").sessions
        #expect(listed.count == 1)
        #expect(listed[0].sides[0].streams[0].expected?.description == "127.0.22.10:33000")
        #expect(listed[0].sides[1].streams[1].expected?.description == "127.0.22.20:34001")

        // Media flows through the relay the functions set up.
        let alice = try UDPPeer("127.0.22.10", 33000), bob = try UDPPeer("127.0.22.20", 34000)
        alice.send(payload("sdp"), to: "127.0.22.1", 32200)
        #expect(bob.receive()?.payload == payload("sdp"))

        #expect(functions.delete(sessionIDs: ids, selects: &selects).succeeded)
        #expect(try client.list().sessions.isEmpty)
        #expect(try client.info().switchboards[0].switchboard.name == "pub")
        #expect(try client.stats().sessionsDeleted == 1)
    }

    @Test("the client reconnects after the relay restarted, and reports a dead relay as a plane error")
    func reconnect() throws {
        let h = try RelayHarness(gateA: "127.0.23.1", gateB: "127.0.23.2", port: 32300)
        let path = "/tmp/iptrtpproxy-test-reconnect-\(getpid()).sock"
        var server = ControlServer(engine: h.engine, endpoints: .init(unixPath: path))
        try server.start()
        let client = try RelayControlClient("unix:" + path, timeout: 1000)
        try client.ping()
        server.stop()
        #expect(throws: MediaPlaneError.self) { try client.ping() }
        server = ControlServer(engine: h.engine, endpoints: .init(unixPath: path))
        try server.start()
        try client.ping()
        server.stop()
        h.engine.stop()
    }

    @Test("the Unix socket greets with a fresh nonce and asks for nothing")
    func unixGreeting() throws {
        let h = try RelayHarness(gateA: "127.0.23.1", gateB: "127.0.23.2", port: 32300)
        let path = "/tmp/iptrtpproxy-test-greeting-\(getpid()).sock"
        let server = ControlServer(engine: h.engine, endpoints: .init(unixPath: path))
        try server.start()
        defer { server.stop(); h.engine.stop() }
        let first = rawWithGreeting(path, [Array("iptrtp/2 1 ping\n".utf8)], expectReplies: 2)
        let second = rawWithGreeting(path, [], expectReplies: 1)
        let greetings = try [first, second].map { try ControlGreeting(parsing: Array(($0.first ?? "").utf8)) }
        #expect(greetings.allSatisfy { !$0.authRequired })
        #expect(greetings[0].serverNonce != greetings[1].serverNonce)
        #expect(first.dropFirst().first == "iptrtp/2 1 ok pong")
    }

    static let secret = "3f1d0a9c6b5e4d2f8a7b6c5d4e3f2a1b"

    @Test("a TCP listener asks for the challenge's proof before anything else; wrong or missing secrets get nothing")
    func tcpSecret() throws {
        let h = try RelayHarness(gateA: "127.0.24.1", gateB: "127.0.24.2", port: 32400)
        let tcp = Endpoint(address: IPAddress("127.0.24.1")!, port: 39024)
        #expect(throws: MediaPlaneError.self) {
            try ControlServer(engine: h.engine, endpoints: .init(tcp: tcp)).start()
        }
        #expect(throws: MediaPlaneError.self) {
            try ControlServer(engine: h.engine, endpoints: .init(tcp: tcp, secret: "short")).start()
        }
        let server = ControlServer(engine: h.engine, endpoints: .init(tcp: tcp, secret: Self.secret))
        try server.start()
        defer { server.stop(); h.engine.stop() }

        let good = RelayControlClient(address: .tcp(tcp), secret: Self.secret)
        try good.ping()
        _ = try good.allocateSession(switchboard: "pub", request: SessionRequest())

        let wrong = RelayControlClient(address: .tcp(tcp), secret: Self.secret + "x")
        #expect { try wrong.ping() } throws: { ($0 as? MediaPlaneError)?.message.hasSuffix("refused authentication: wrong secret") == true }
        let none = RelayControlClient(address: .tcp(tcp))
        #expect { try none.ping() } throws: { ($0 as? MediaPlaneError)?.message.contains("asks for the shared secret") == true }
        #expect(try good.list().sessions.count == 1)

        // A request before the proof is refused, and the connection may still authenticate.
        let c = try TCPLineClient(tcp)
        let greeting = try ControlGreeting(parsing: Array(c.line().utf8))
        #expect(greeting.authRequired)
        c.send("iptrtp/2 1 alloc pub")
        #expect(c.line() == "iptrtp/2 1 error authenticate first")
        let challenge = ControlChallenge(serverNonce: greeting.serverNonce, binding: "tcp")
        let nonce = ControlChallenge.newNonce()
        c.send("iptrtp/2 2 auth \(nonce) \(challenge.clientProof(secret: Self.secret, clientNonce: nonce))")
        let reply = c.line()
        #expect(reply.hasPrefix("iptrtp/2 2 ok "))
        #expect(challenge.acceptsRelay(proof: String(reply.dropFirst("iptrtp/2 2 ok ".count)), clientNonce: nonce, secret: Self.secret))
        c.send("iptrtp/2 3 ping")
        #expect(c.line() == "iptrtp/2 3 ok pong")
    }

    @Test("a captured handshake replayed on a new connection allocates nothing")
    func replayRefused() throws {
        let h = try RelayHarness(gateA: "127.0.26.1", gateB: "127.0.26.2", port: 32600)
        let tcp = Endpoint(address: IPAddress("127.0.26.1")!, port: 39026)
        let server = ControlServer(engine: h.engine, endpoints: .init(tcp: tcp, secret: Self.secret))
        try server.start()
        defer { server.stop(); h.engine.stop() }
        // The legitimate exchange, as a capture would show it.
        let victim = try TCPLineClient(tcp)
        let greeting = try ControlGreeting(parsing: Array(victim.line().utf8))
        let nonce = ControlChallenge.newNonce()
        let proof = ControlChallenge(serverNonce: greeting.serverNonce, binding: "tcp").clientProof(secret: Self.secret, clientNonce: nonce)
        let captured = ["iptrtp/2 1 auth \(nonce) \(proof)", "iptrtp/2 2 alloc pub"]
        for line in captured { victim.send(line) }
        #expect(victim.line().hasPrefix("iptrtp/2 1 ok "))
        #expect(victim.line().hasPrefix("iptrtp/2 2 ok 0/"))
        // The attacker replays it on a connection of its own.
        let attacker = try TCPLineClient(tcp)
        #expect(attacker.line().hasPrefix("iptrtp/2 - hello "))
        for line in captured { attacker.send(line) }
        #expect(attacker.line() == "iptrtp/2 1 error wrong secret")
        #expect(attacker.line() == "")  // closed: the alloc was never read
        #expect(h.engine.statistics().sessionsAllocated == 1)
    }

    @Test("guessing is slowed per address: after the burst, attempts are refused unchecked")
    func guessingThrottled() throws {
        let h = try RelayHarness(gateA: "127.0.27.1", gateB: "127.0.27.2", port: 32700)
        let tcp = Endpoint(address: IPAddress("127.0.27.1")!, port: 39027)
        var limits = ControlLimits.network
        limits.failedAuthBurst = 5
        limits.failedAuthPerSecond = 0.001
        let server = ControlServer(engine: h.engine, endpoints: .init(tcp: tcp, secret: Self.secret, networkLimits: limits))
        try server.start()
        defer { server.stop(); h.engine.stop() }
        var replies: [String] = []
        for i in 0..<8 {
            let c = try TCPLineClient(tcp)
            _ = c.line()
            c.send("iptrtp/2 \(i) auth \(ControlChallenge.newNonce()) \(ControlChallenge.newNonce())")
            replies.append(c.line())
        }
        #expect(replies.prefix(5).allSatisfy { $0.hasSuffix("error wrong secret") })
        #expect(replies.dropFirst(5).allSatisfy { $0.contains("error too many failed attempts from 127.0.0.1") })
        // The right secret from the same address is refused too while the bucket is empty: it is not even checked.
        let good = RelayControlClient(address: .tcp(tcp), secret: Self.secret)
        #expect(throws: MediaPlaneError.self) { try good.ping() }
    }

    @Test("strangers who never authenticate are closed at the deadline and cannot crowd out the Unix socket")
    func strangersBounded() throws {
        let h = try RelayHarness(gateA: "127.0.28.1", gateB: "127.0.28.2", port: 32800)
        let tcp = Endpoint(address: IPAddress("127.0.28.1")!, port: 39028)
        let path = "/tmp/iptrtpproxy-test-strangers-\(getpid()).sock"
        var limits = ControlLimits.network
        limits.maxConnections = 6
        limits.maxUnauthenticatedPerAddress = 4
        limits.authTimeout = 300
        let server = ControlServer(
            engine: h.engine, endpoints: .init(unixPath: path, tcp: tcp, secret: Self.secret, networkLimits: limits))
        try server.start()
        defer { server.stop(); h.engine.stop() }
        let strangers = try (0..<10).map { _ in try TCPLineClient(tcp) }
        // The local socket and an authenticated TCP client are served while strangers crowd the port.
        let local = try RelayControlClient("unix:" + path)
        try local.ping()
        let good = RelayControlClient(address: .tcp(tcp), secret: Self.secret)
        try good.ping()
        // Strangers from one address push out each other, never the client that authenticated;
        // all are closed once the deadline passed.
        let deadline = MonotonicClock.milliseconds() + 3000
        var open = strangers.count
        while open > 0 && MonotonicClock.milliseconds() < deadline {
            open = strangers.filter { !$0.isClosed() }.count
        }
        #expect(open == 0)
        try good.ping()
    }

    @Test("a client that never reads its replies is disconnected; the relay reads nothing more while its replies wait")
    func nonReaderClosed() throws {
        let h = try RelayHarness(gateA: "127.0.29.1", gateB: "127.0.29.2", port: 32900)
        let path = "/tmp/iptrtpproxy-test-nonreader-\(getpid()).sock"
        var limits = ControlLimits.unixSocket
        limits.replyTimeout = 300
        let server = ControlServer(engine: h.engine, endpoints: .init(unixPath: path, unixLimits: limits))
        try server.start()
        defer { server.stop(); h.engine.stop() }
        let hog = try UnixLineClient(path)
        // Pipelined replies leave in large writes, so the socket buffers hold thousands of them:
        // the hog sends far more than they take.
        let count = 50_000
        let request = Array(String(repeating: "iptrtp/2 1 list\n", count: count).utf8)
        hog.sendWithoutReading(request, seconds: 2)
        let before = h.engine.statistics().controlRequests
        // It is closed within the reply deadline, having been answered a bounded number of times.
        let deadline = MonotonicClock.milliseconds() + 3000
        while !hog.isPeerClosed() && MonotonicClock.milliseconds() < deadline {}
        #expect(hog.isPeerClosed())
        #expect(before < UInt64(count))
        let local = try RelayControlClient("unix:" + path)
        try local.ping()
    }

    @Test("control addresses parse from the command line forms")
    func addresses() throws {
        #expect(try ControlAddress(parsing: "unix:/run/x.sock") == .unix(path: "/run/x.sock"))
        #expect(try ControlAddress(parsing: "/run/x.sock") == .unix(path: "/run/x.sock"))
        #expect(try ControlAddress(parsing: "tcp:127.0.0.1:7722") == .tcp(Endpoint(address: IPAddress("127.0.0.1")!, port: 7722)))
        #expect(try ControlAddress(parsing: "tcp:[::1]:7722") == .tcp(Endpoint(address: IPAddress("::1")!, port: 7722)))
        #expect(try ControlAddress(parsing: "tcp:localhost:7722").description == "tcp:127.0.0.1:7722")
        #expect(throws: MediaPlaneError.self) { try ControlAddress(parsing: "tcp:example.com:7722") }
        #expect(throws: MediaPlaneError.self) { try ControlAddress(parsing: "udp:1.2.3.4:5") }
    }

    @Test("the metrics endpoint serves Prometheus text")
    func metrics() throws {
        let h = try RelayHarness(gateA: "127.0.25.1", gateB: "127.0.25.2", port: 32500)
        let address = Endpoint(address: IPAddress("127.0.25.1")!, port: 39025)
        let endpoint = MetricsEndpoint(engine: h.engine, address: address)
        try endpoint.start()
        defer { endpoint.stop(); h.engine.stop() }
        _ = try h.engine.allocateSession(switchboard: "pub", request: SessionRequest())

        let fd = try Socket.connected(to: SocketAddress(address), timeout: 2000)
        defer { close(fd) }
        // Blocking from here: the test reads until the server closes.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        let request = Array("GET /metrics HTTP/1.0\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            data += buffer[0..<n]
        }
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.0 200 OK"))
        #expect(text.contains("iptrtpproxy_sessions_active 1"))
        #expect(text.contains(#"iptrtpproxy_switchboard_sessions_active{switchboard="pub"} 1"#))
        #expect(text.contains("iptrtpproxy_sessions_allocated_total 1"))
        #expect(text.contains(#"iptrtpproxy_dropped_packets_total{switchboard="pub",reason="unknown-source"} 0"#))
    }
}

/// A blocking line client over TCP, for playing a client or an attacker by hand.
final class TCPLineClient {
    let fd: Int32
    private var buffered: [UInt8] = []

    init(_ endpoint: Endpoint) throws {
        fd = try Socket.connected(to: SocketAddress(endpoint), timeout: 2000)
    }

    deinit { close(fd) }

    func send(_ line: String) {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// The next line, "" when the relay closed or nothing came within 2 s.
    func line() -> String {
        while true {
            if let i = buffered.firstIndex(of: 10) {
                let line = String(decoding: buffered[..<i], as: UTF8.self)
                buffered.removeSubrange(...i)
                return line
            }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 2000) == 1 else { return "" }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return "" }
            buffered += chunk[0..<n]
        }
    }

    /// True once the relay has closed the connection (reads what is queued).
    func isClosed() -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, 50) == 1 else { return false }
        var chunk = [UInt8](repeating: 0, count: 4096)
        return recv(fd, &chunk, chunk.count, 0) <= 0
    }
}

/// A Unix-socket client that can flood requests without reading a reply.
final class UnixLineClient {
    let fd: Int32

    init(_ path: String) throws {
        fd = try Socket.connected(to: SocketAddress(unixPath: path), timeout: 2000)
        Socket.setOption(fd, SOL_SOCKET, SO_RCVBUF, 4096)
    }

    deinit { close(fd) }

    /// Writes as much of `bytes` as the relay takes within `seconds`, never reading.
    func sendWithoutReading(_ bytes: [UInt8], seconds: Int) {
        var offset = 0
        let deadline = MonotonicClock.milliseconds() + Int64(seconds) * 1000
        while offset < bytes.count && MonotonicClock.milliseconds() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            guard poll(&p, 1, 100) == 1 else { continue }
            if p.revents & Int16(POLLERR | POLLHUP) != 0 { return }
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    /// True once the relay has closed its end (POLLHUP, or a send that fails).
    func isPeerClosed() -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
        _ = poll(&p, 1, 50)
        if p.revents & Int16(POLLHUP | POLLERR) != 0 { return true }
        let one: [UInt8] = [10]
        return one.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, 1, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT)) } < 0 && errno == EPIPE
    }
}
