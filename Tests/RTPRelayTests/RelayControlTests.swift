import Glibc
import IPTRTPProxyClient
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Testing
@testable import RTPRelay

/// The control server and the client library over real sockets.
@Suite("relay control socket")
struct RelayControlTests {
    /// Sends raw lines on a fresh Unix connection and returns the reply lines.
    func raw(_ path: String, _ lines: [[UInt8]], expectReplies: Int) -> [String] {
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
            Array("iptrtp/1 1 alloc pub a.rtp=999.1.1.1:4000\n".utf8),
            [0x69, 0x70, 0xff, 0xfe, 0x00, 10],
            Array("iptrtp/1 2 delete pub 5/1\n".utf8),
            Array("iptrtp/1 3 update nosuch 1/1\n".utf8),
            Array("iptrtp/1 4 ping\n".utf8),
        ], expectReplies: 6)
        #expect(replies.count == 6)
        #expect(replies[0].hasPrefix("iptrtp/1 - error expected 'iptrtp/1 <id> <command>"))
        #expect(replies[1].hasPrefix("iptrtp/1 1 error a.rtp must be ADDRESS:PORT"))
        #expect(replies[2].hasPrefix("iptrtp/1 - error request must be printable ASCII"))
        #expect(replies[3] == "iptrtp/1 2 error switchboard 'pub': no session 5/1")
        #expect(replies[4] == "iptrtp/1 3 error unknown switchboard 'nosuch'")
        #expect(replies[5] == "iptrtp/1 4 ok pong")

        // A line longer than the protocol allows closes that connection only.
        let long = raw(path, [Array(repeating: UInt8(ascii: "a"), count: 70_000)], expectReplies: 1)
        #expect(long.first?.hasPrefix("iptrtp/1 - error request longer than") == true)

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

    @Test("a TCP listener requires the shared secret before anything else")
    func tcpSecret() throws {
        let h = try RelayHarness(gateA: "127.0.24.1", gateB: "127.0.24.2", port: 32400)
        let tcp = Endpoint(address: IPAddress("127.0.24.1")!, port: 39024)
        #expect(throws: MediaPlaneError.self) {
            try ControlServer(engine: h.engine, endpoints: .init(tcp: tcp)).start()
        }
        let server = ControlServer(engine: h.engine, endpoints: .init(tcp: tcp, secret: "open-sesame"))
        try server.start()
        defer { server.stop(); h.engine.stop() }

        let good = RelayControlClient(address: .tcp(tcp), secret: "open-sesame")
        try good.ping()
        _ = try good.allocateSession(switchboard: "pub", request: SessionRequest())

        let wrong = RelayControlClient(address: .tcp(tcp), secret: "guess")
        #expect { try wrong.ping() } throws: { ($0 as? MediaPlaneError)?.message == "wrong secret" }
        let none = RelayControlClient(address: .tcp(tcp))
        #expect { try none.ping() } throws: { ($0 as? MediaPlaneError)?.message.hasPrefix("authenticate first") == true }
        #expect(try good.list().sessions.count == 1)
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
        #expect(text.contains("iptrtpproxy_sessions_allocated_total 1"))
        #expect(text.contains(#"iptrtpproxy_dropped_packets_total{switchboard="pub",reason="unknown-source"} 0"#))
    }
}
