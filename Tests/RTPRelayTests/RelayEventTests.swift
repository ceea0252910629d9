import Glibc
import IPTRTPProxyClient
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Testing
@testable import RTPRelay

/// `subscribe`: expired sessions reach subscribers; a subscriber that does not read is dropped.
@Suite("relay control events")
struct RelayEventTests {
    @Test("a subscriber hears of the session housekeeping expires; other clients hear nothing")
    func expiredReachesSubscriber() throws {
        let h = try RelayHarness(gateA: "127.0.60.1", gateB: "127.0.60.2", port: 38000, expires: 5)
        let path = "/tmp/iptrtpproxy-test-events-\(getpid()).sock"
        let server = ControlServer(engine: h.engine, endpoints: .init(unixPath: path))
        try server.start()
        defer { server.stop(); h.engine.stop() }

        let subscriber = try RelayControlClient("unix:" + path)
        try subscriber.subscribe()
        let other = try RelayControlClient("unix:" + path)
        try other.ping()

        let s = try h.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        let kept = try h.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        h.time.advance(seconds: 3)
        try h.engine.updateSession(switchboard: "pub", session: kept.handle, request: sideRequest(.a, "127.0.60.10", 33000, learning: 0))
        h.time.advance(seconds: 3)
        h.engine.housekeep()

        var events: [ControlEvent] = []
        let deadline = MonotonicClock.milliseconds() + 3000
        while events.isEmpty && MonotonicClock.milliseconds() < deadline {
            events += try subscriber.events(waitingAtMost: 500)
        }
        #expect(events == [.expired(switchboard: "pub", session: s.handle)])
        // The subscribed connection still answers requests, and the other client got no event line.
        try subscriber.ping()
        try other.ping()
        #expect(try other.list().sessions.map(\.handle) == [kept.handle])
    }

    @Test("a subscriber that does not read is dropped; housekeeping never waits on it")
    func slowSubscriberDropped() throws {
        let h = try RelayHarness(gateA: "127.0.61.1", gateB: "127.0.61.2", port: 38100)
        let path = "/tmp/iptrtpproxy-test-events-slow-\(getpid()).sock"
        let server = ControlServer(engine: h.engine, endpoints: .init(unixPath: path))
        try server.start()
        defer { server.stop(); h.engine.stop() }

        let address = try SocketAddress(unixPath: path)
        let fd = try Socket.connected(to: address, timeout: 2000)
        defer { close(fd) }
        var small: Int32 = 4096
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        let request = Array("iptrtp/2 s subscribe\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        // Wait for the greeting and the ok (two lines), then stop reading.
        var got: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while got.filter({ $0 == 10 }).count < 2 {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            #expect(poll(&p, 1, 3000) == 1)
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            got += buffer[0..<n]
        }
        #expect(String(decoding: got, as: UTF8.self).hasSuffix("iptrtp/2 s ok\n"))
        #expect(h.engine.operations.expiryEvents.subscribers.load(ordering: .relaxed) == 1)

        // Far more events than the socket and the 256 KiB backlog hold; publishing never blocks.
        let batch = (0..<ExpiryEvents.capacity).map {
            ControlEvent.expired(switchboard: "pub", session: SessionHandle(id: $0 % 4, created: UInt32(1_700_000_000 + $0)))
        }
        let start = MonotonicClock.milliseconds()
        var dropped = false
        for _ in 0..<150 where !dropped {
            h.engine.operations.expiryEvents.publish(batch)
            usleep(100_000)
            dropped = h.engine.operations.expiryEvents.subscribers.load(ordering: .relaxed) == 0
        }
        #expect(dropped)
        #expect(MonotonicClock.milliseconds() - start < 15_000)
        // Reading on ends at the close, and the relay serves others.
        var closed = false
        for _ in 0..<10_000 {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 2000) == 1 else { break }
            if recv(fd, &buffer, buffer.count, 0) <= 0 { closed = true; break }
        }
        #expect(closed)
        let client = try RelayControlClient("unix:" + path)
        try client.ping()
        // With nobody subscribed, nothing is kept.
        h.engine.operations.expiryEvents.publish(batch)
        #expect(h.engine.operations.expiryEvents.take().isEmpty)
    }

    @Test("on TCP, subscribe needs the challenge's proof first; an authenticated subscriber gets events")
    func tcpSubscribeAuthenticated() throws {
        let h = try RelayHarness(gateA: "127.0.62.1", gateB: "127.0.62.2", port: 38200, expires: 5)
        let tcp = Endpoint(address: IPAddress("127.0.62.1")!, port: 39062)
        let server = ControlServer(engine: h.engine, endpoints: .init(tcp: tcp, secret: RelayControlTests.secret))
        try server.start()
        defer { server.stop(); h.engine.stop() }

        let c = try TCPLineClient(tcp)
        _ = c.line()  // the greeting
        c.send("iptrtp/2 1 subscribe")
        #expect(c.line() == "iptrtp/2 1 error authenticate first")
        #expect(h.engine.operations.expiryEvents.subscribers.load(ordering: .relaxed) == 0)

        let subscriber = RelayControlClient(address: .tcp(tcp), secret: RelayControlTests.secret)
        try subscriber.subscribe()
        let s = try h.engine.allocateSession(switchboard: "pub", request: SessionRequest())
        h.time.advance(seconds: 6)
        h.engine.housekeep()
        var events: [ControlEvent] = []
        let deadline = MonotonicClock.milliseconds() + 3000
        while events.isEmpty && MonotonicClock.milliseconds() < deadline {
            events += try subscriber.events(waitingAtMost: 500)
        }
        #expect(events == [.expired(switchboard: "pub", session: s.handle)])
    }

    @Test("a subscriber that reads takes a whole round of events at once (a mass expiry) and stays")
    func burstReachesReader() throws {
        let h = try RelayHarness(gateA: "127.0.63.1", gateB: "127.0.63.2", port: 38300)
        let path = "/tmp/iptrtpproxy-test-events-burst-\(getpid()).sock"
        let server = ControlServer(engine: h.engine, endpoints: .init(unixPath: path))
        try server.start()
        defer { server.stop(); h.engine.stop() }

        let subscriber = try RelayControlClient("unix:" + path)
        try subscriber.subscribe()
        let batch = (0..<ExpiryEvents.capacity).map {
            ControlEvent.expired(switchboard: "pub", session: SessionHandle(id: $0, created: UInt32(1_700_000_000 + $0)))
        }
        h.engine.operations.expiryEvents.publish(batch)
        var events: [ControlEvent] = []
        let deadline = MonotonicClock.milliseconds() + 5000
        while events.count < batch.count && MonotonicClock.milliseconds() < deadline {
            events += try subscriber.events(waitingAtMost: 200)
        }
        #expect(events == batch)
        #expect(h.engine.operations.expiryEvents.subscribers.load(ordering: .relaxed) == 1)
        try subscriber.ping()
    }
}
