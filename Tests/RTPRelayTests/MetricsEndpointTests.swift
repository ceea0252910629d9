import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Testing
@testable import RTPRelay

/// The /metrics HTTP server over real sockets: paths, methods, capacity figures, and that slow or
/// many clients delay no scrape.
@Suite("relay metrics endpoint")
struct MetricsEndpointTests {
    /// A started endpoint on its own loopback address, over an engine with one switchboard of 4 sessions.
    struct Served {
        let harness: RelayHarness
        let endpoint: MetricsEndpoint
        let address: Endpoint

        init(_ octet: Int, limits: MetricsEndpoint.Limits = MetricsEndpoint.Limits()) throws {
            harness = try RelayHarness(gateA: "127.0.\(octet).1", gateB: "127.0.\(octet).2", port: UInt16(33000 + 10 * octet))
            address = Endpoint(address: IPAddress("127.0.\(octet).1")!, port: UInt16(39000 + octet))
            endpoint = MetricsEndpoint(engine: harness.engine, address: address, limits: limits)
            try endpoint.start()
        }

        func stop() {
            endpoint.stop()
            harness.engine.stop()
        }
    }

    /// A connected non-blocking socket.
    static func connect(_ address: Endpoint) throws -> Int32 {
        try Socket.connected(to: SocketAddress(address), timeout: 2000)
    }

    static func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// What arrives until the peer closes, or until `milliseconds` pass (then `closed` is false).
    static func readToClose(_ fd: Int32, within milliseconds: Int64) -> (text: String, closed: Bool) {
        let deadline = MonotonicClock.milliseconds() + milliseconds
        var data: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let left = deadline - MonotonicClock.milliseconds()
            if left <= 0 { return (String(decoding: data, as: UTF8.self), false) }
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, Int32(left)) == 1 else { continue }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n == 0 || (n < 0 && !lastCallWouldBlock) { return (String(decoding: data, as: UTF8.self), true) }
            if n > 0 { data += buffer[0..<n] }
        }
    }

    /// One HTTP/1.0 exchange; the response, or "" when it does not end within `milliseconds`.
    static func exchange(_ address: Endpoint, _ request: String, within milliseconds: Int64 = 2000) throws -> String {
        let fd = try connect(address)
        defer { close(fd) }
        send(fd, request)
        let (text, closed) = readToClose(fd, within: milliseconds)
        return closed ? text : ""
    }

    @Test("GET and HEAD of /metrics; another path 404, another method 405")
    func pathsAndMethods() throws {
        let s = try Served(70)
        defer { s.stop() }
        let get = try Self.exchange(s.address, "GET /metrics HTTP/1.0\r\n\r\n")
        #expect(get.hasPrefix("HTTP/1.0 200 OK"))
        #expect(get.contains("text/plain; version=0.0.4"))
        #expect(get.contains("iptrtpproxy_sessions_active 0"))
        let head = try Self.exchange(s.address, "HEAD /metrics HTTP/1.0\r\n\r\n")
        #expect(head.hasPrefix("HTTP/1.0 200 OK"))
        #expect(!head.contains("iptrtpproxy_"), "HEAD has no body")
        let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
        #expect(length.map { Int($0.split(separator: " ").last ?? "") ?? 0 } ?? 0 > 100, "HEAD announces the body's length")
        #expect(try Self.exchange(s.address, "GET /other HTTP/1.0\r\n\r\n").hasPrefix("HTTP/1.0 404 Not Found"))
        let post = try Self.exchange(s.address, "POST /metrics HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
        #expect(post.hasPrefix("HTTP/1.0 405"))
        #expect(post.contains("Allow: GET, HEAD"))
        // Garbage instead of HTTP: the connection is closed, the server goes on.
        _ = try Self.exchange(s.address, "\u{1}\u{2}\u{3} nonsense\r\n\r\n")
        #expect(try Self.exchange(s.address, "GET /metrics HTTP/1.0\r\n\r\n").hasPrefix("HTTP/1.0 200 OK"))
    }

    @Test("two requests on one HTTP/1.1 keep-alive connection")
    func keepAlive() throws {
        let s = try Served(71)
        defer { s.stop() }
        let fd = try Self.connect(s.address)
        defer { close(fd) }
        Self.send(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = Self.readToClose(fd, within: 500)
        #expect(!first.closed && first.text.hasPrefix("HTTP/1.1 200 OK"))
        Self.send(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let second = Self.readToClose(fd, within: 2000)
        #expect(second.closed && second.text.hasPrefix("HTTP/1.1 200 OK"))
    }

    @Test("a client sending one byte a second delays no scrape and is dropped at the request timeout")
    func slowClient() throws {
        let s = try Served(72, limits: MetricsEndpoint.Limits(requestTimeout: 2500))
        defer { s.stop() }
        try Self.expectSlowClientDelaysNoScrape(s.address)
    }

    /// A client that sends its request one byte a second to `address` (request timeout 2500 ms):
    /// meanwhile every scrape is served within 500 ms, and the slow client is dropped after
    /// 2-4.5 s. Shared by both metrics servers.
    static func expectSlowClientDelaysNoScrape(_ address: Endpoint) throws {
        let slow = try connect(address)
        defer { close(slow) }
        let request = Array("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        let started = MonotonicClock.milliseconds()
        var sent = 0
        var closedAfter: Int64?
        while MonotonicClock.milliseconds() - started < 6000 {
            send(slow, String(request[sent % request.count]))
            sent += 1
            // Meanwhile a scrape is served at once (the old server waited up to 2 s per client).
            let t0 = MonotonicClock.milliseconds()
            let scrape = try exchange(address, "GET /metrics HTTP/1.0\r\n\r\n", within: 1000)
            let took = MonotonicClock.milliseconds() - t0
            #expect(scrape.hasPrefix("HTTP/1.0 200 OK"), "scrape while the slow client holds a connection")
            #expect(took < 500, "scrape took \(took) ms")
            let (_, closed) = readToClose(slow, within: 1000 - took)
            if closed {
                closedAfter = MonotonicClock.milliseconds() - started
                break
            }
        }
        #expect(sent >= 2)
        let after = try #require(closedAfter, "the slow client is dropped")
        #expect(after >= 2000 && after < 4500, "dropped after \(after) ms (request timeout 2500)")
    }

    @Test("64 connections open at once all get their scrape")
    func manyScrapes() throws {
        let s = try Served(73)
        defer { s.stop() }
        try Self.expectAllScrapesServed(s.address, connections: 64)
    }

    /// `connections` clients connect to `address` before any asks, then all ask, then each
    /// answer is read: every one is served. Shared by both metrics servers.
    static func expectAllScrapesServed(_ address: Endpoint, connections: Int) throws {
        let fds = try (0..<connections).map { _ in try connect(address) }
        defer { fds.forEach { close($0) } }
        for fd in fds { send(fd, "GET /metrics HTTP/1.0\r\n\r\n") }
        var served = 0
        for fd in fds where readToClose(fd, within: 3000).text.hasPrefix("HTTP/1.0 200 OK") { served += 1 }
        #expect(served == connections)
    }

    @Test("more connections than the cap: the extra ones are closed, the rest are served")
    func connectionCap() throws {
        let s = try Served(74, limits: MetricsEndpoint.Limits(maxConnections: 4))
        defer { s.stop() }
        try Self.expectCapRefusesExtra(s.address, cap: 4)
    }

    /// With `cap` connections held open to `address`, one more is closed without an answer, and a
    /// held one is still served. Shared by both metrics servers.
    static func expectCapRefusesExtra(_ address: Endpoint, cap: Int) throws {
        let held = try (0..<cap).map { _ in try connect(address) }
        defer { held.forEach { close($0) } }
        // The held ones are counted once accepted; one more is closed without an answer.
        var refused = false
        let deadline = MonotonicClock.milliseconds() + 3000
        while !refused && MonotonicClock.milliseconds() < deadline {
            refused = try exchange(address, "GET /metrics HTTP/1.0\r\n\r\n", within: 1000).isEmpty
        }
        #expect(refused)
        send(held[0], "GET /metrics HTTP/1.0\r\n\r\n")
        #expect(readToClose(held[0], within: 2000).text.hasPrefix("HTTP/1.0 200 OK"))
    }

    @Test("capacity: sessions and ports free and in all, per switchboard; ended sessions that keep their sockets")
    func capacity() throws {
        let s = try Served(75)
        defer { s.stop() }
        let ended = try s.harness.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        try s.harness.engine.deleteSessions(switchboard: "pub", ids: ended.handle.id...ended.handle.id, created: ended.handle.created)
        _ = try s.harness.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        #expect(s.harness.engine.info().switchboards[0].sessionsKept == 1)
        let text = try Self.exchange(s.address, "GET /metrics HTTP/1.0\r\n\r\n")
        #expect(text.contains(#"iptrtpproxy_switchboard_sessions_kept{switchboard="pub"} 1"#))
        #expect(text.contains(#"iptrtpproxy_switchboard_sessions_capacity{switchboard="pub"} 4"#))
        #expect(text.contains(#"iptrtpproxy_switchboard_sessions_free{switchboard="pub"} 3"#))
        #expect(text.contains(#"iptrtpproxy_switchboard_ports_capacity{switchboard="pub"} 16"#))
        #expect(text.contains(#"iptrtpproxy_switchboard_ports_free{switchboard="pub"} 12"#))
        #expect(text.contains("iptrtpproxy_sessions_capacity 4"))
        #expect(text.contains("iptrtpproxy_sessions_free 3"))
        #expect(text.contains(#"iptrtpproxy_kernel_offload_enabled{offload="none"} 0"#))
        #expect(text.contains(#"iptrtpproxy_side_packets_total{switchboard="pub",side="a"} 0"#))
    }

    @Test("packets per direction: what each side's clients sent, still counted once the session is deleted")
    func directions() throws {
        let s = try Served(76)
        defer { s.stop() }
        let alice = try UDPPeer("127.0.76.10", 31000), bob = try UDPPeer("127.0.76.20", 32000)
        let session = try s.harness.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.76.10", 31000, learning: 5), sideRequest(.b, "127.0.76.20", 32000, learning: 5)))
        for i in 0..<5 {
            alice.send(payload("a\(i)"), to: "127.0.76.1", session.rtpPorts[0])
            #expect(bob.receive()?.payload == payload("a\(i)"))
        }
        for i in 0..<3 {
            bob.send(payload("b\(i)"), to: "127.0.76.2", session.rtpPorts[1])
            #expect(alice.receive()?.payload == payload("b\(i)"))
        }
        let live = s.harness.engine.sideStatistics()
        #expect(live[0].map(\.packets) == [5, 3])
        try s.harness.engine.deleteSessions(
            switchboard: "pub", ids: session.handle.id...session.handle.id, created: session.handle.created)
        #expect(s.harness.engine.sideStatistics()[0].map(\.packets) == [5, 3])
        let text = try Self.exchange(s.address, "GET /metrics HTTP/1.0\r\n\r\n")
        #expect(text.contains(#"iptrtpproxy_side_packets_total{switchboard="pub",side="a"} 5"#))
        #expect(text.contains(#"iptrtpproxy_side_packets_total{switchboard="pub",side="b"} 3"#))
        #expect(text.contains(#"iptrtpproxy_packets_total{switchboard="pub"} 8"#))
    }
}
