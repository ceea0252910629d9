import Glibc
import IPTRTPProxyClient
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Synchronization
import Testing
@testable import RTPRelay

/// `iptrtpproxy_delete` sends its deletes without waiting for the relay's replies
/// (`RelayControlClient.deleteSessionsWithoutWaiting`): a real relay and control server, the
/// module's client.
@Suite("deletes sent without waiting")
struct DeleteWithoutWaitingTests {
    /// A relay with its control server on a Unix socket; `stop()` ends both.
    final class ServedRelay {
        let harness: RelayHarness
        let server: ControlServer
        let path: String
        init(_ name: String, gate: Int, port: UInt16) throws {
            harness = try RelayHarness(gateA: "127.0.7\(gate).1", gateB: "127.0.7\(gate).2", port: port, maxSessions: 300)
            path = "/tmp/iptrtpproxy-test-nowait-\(name)-\(getpid()).sock"
            server = ControlServer(engine: harness.engine, endpoints: .init(unixPath: path))
            try server.start()
        }
        func stop() {
            server.stop()
            harness.engine.stop()
        }
    }

    /// What `lateRefusal` was told.
    final class Told: Sendable {
        private let lines = Mutex<[String]>([])
        func add(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    /// The module's client of the relay at `path`, and what it tells of late refusals.
    static func client(_ path: String, timeout: Int32 = 2000) throws -> (RelayControlClient, Told) {
        let client = try RelayControlClient("unix:" + path, timeout: timeout)
        let told = Told()
        client.lateRefusal = { told.add($0) }
        return (client, told)
    }

    @Test("a delete returns once sent; the relay has done it before it answers the client's next request")
    func deleteThenNextRequest() throws {
        let relay = try ServedRelay("order", gate: 0, port: 38400)
        defer { relay.stop() }
        let (client, told) = try Self.client(relay.path)
        let sessions = try (0..<3).map { i in
            try client.allocateSession(switchboard: "pub", request: sideRequest(.a, "127.0.0.1", UInt16(20000 + 2 * i)))
        }
        for s in sessions {
            try client.deleteSessionsWithoutWaiting(switchboard: "pub", ids: s.handle.id...s.handle.id, created: s.handle.created)
        }
        #expect(try client.list(switchboard: "pub").sessions.isEmpty)
        #expect(told.all.isEmpty, "no refusal: \(told.all)")
        #expect(try client.stats().controlRequests >= 7)
    }

    @Test("a refused delete is told (once) when its reply is read with the next request's")
    func refusalToldLater() throws {
        let relay = try ServedRelay("refused", gate: 1, port: 38500)
        defer { relay.stop() }
        let (client, told) = try Self.client(relay.path)
        try client.deleteSessionsWithoutWaiting(switchboard: "pub", ids: 77...78, created: 1)
        #expect(told.all.isEmpty)
        try client.ping()
        #expect(told.all.count == 1)
        #expect(told.all.first?.contains("delete pub:77-78: switchboard 'pub': no session 77/1") == true, "\(told.all)")
        try client.ping()
        #expect(told.all.count == 1)
    }

    @Test("many deletes with no other request: replies are read as they pile up, none is lost, the relay keeps reading")
    func manyWithoutARequestBetween() throws {
        let relay = try ServedRelay("many", gate: 2, port: 38600)
        defer { relay.stop() }
        let (client, told) = try Self.client(relay.path)
        let sessions = try (0..<200).map { i in
            try client.allocateSession(switchboard: "pub", request: sideRequest(.a, "127.0.0.1", UInt16(20000 + 2 * i)))
        }
        // Every session deleted, and each of them a second time (refused: no such session).
        for s in sessions + sessions {
            try client.deleteSessionsWithoutWaiting(switchboard: "pub", ids: s.handle.id...s.handle.id, created: s.handle.created)
        }
        #expect(try client.list(switchboard: "pub").sessions.isEmpty)
        #expect(told.all.count == 200)
        #expect(told.all.allSatisfy { $0.contains(": no session ") })
    }

    @Test("a reply that arrived before the connection ended is still read: its refusal is told, nothing called unknown")
    func arrivedRepliesReadAtClose() throws {
        let relay = try ServedRelay("gone", gate: 3, port: 38700)
        defer { relay.stop() }
        let (client, told) = try Self.client(relay.path, timeout: 500)
        try client.ping()
        try client.deleteSessionsWithoutWaiting(switchboard: "pub", ids: 5...5, created: 1)
        // Wait (with a deadline) until the reply is there to read, then drop the connection.
        var ready = pollfd(fd: try #require(client.fileDescriptor), events: Int16(POLLIN), revents: 0)
        #expect(poll(&ready, 1, 5000) == 1)
        client.close()
        #expect(told.all.count == 1)
        #expect(told.all.first?.contains("delete pub:5: switchboard 'pub': no session 5/1") == true, "\(told.all)")
        try client.ping()
        #expect(told.all.count == 1)
    }

    @Test("a TCP relay replaced on its address (a standby after a failover): the delete reaches the new one, not the old connection")
    func relayReplacedOnItsAddress() throws {
        let secret = "3f1d0a9c6b5e4d2f8a7b6c5d4e3f2a1b"
        let address = Endpoint(address: IPAddress("127.0.75.9")!, port: 39075)
        let old = try RelayHarness(gateA: "127.0.75.1", gateB: "127.0.75.2", port: 38900, maxSessions: 10)
        let oldServer = ControlServer(engine: old.engine, endpoints: .init(tcp: address, secret: secret))
        try oldServer.start()
        let client = RelayControlClient(address: .tcp(address), secret: secret, timeout: 2000)
        let told = Told()
        client.lateRefusal = { told.add($0) }
        try client.ping()
        // The old relay goes away; its host closes the connection. A new one takes the address.
        oldServer.stop()
        old.engine.stop()
        let new = try RelayHarness(gateA: "127.0.76.1", gateB: "127.0.76.2", port: 38900, maxSessions: 10)
        let newServer = ControlServer(engine: new.engine, endpoints: .init(tcp: address, secret: secret))
        try newServer.start()
        defer {
            newServer.stop()
            new.engine.stop()
        }
        let session = try RelayControlClient(address: .tcp(address), secret: secret)
            .allocateSession(switchboard: "pub", request: sideRequest(.a, "127.0.0.1", 20000))
        try client.deleteSessionsWithoutWaiting(switchboard: "pub", ids: session.handle.id...session.handle.id, created: session.handle.created)
        #expect(try client.list(switchboard: "pub").sessions.isEmpty)
        #expect(told.all.isEmpty, "\(told.all)")
    }

    @Test("a relay that is gone: the delete throws at once, as a waiting one would, and nothing is left unanswered")
    func relayGone() throws {
        let relay = try ServedRelay("stopped", gate: 4, port: 38800)
        relay.stop()
        let (client, told) = try Self.client(relay.path, timeout: 500)
        #expect(throws: MediaPlaneError.self) { try client.deleteSessionsWithoutWaiting(switchboard: "pub", ids: 1...1, created: 1) }
        #expect(told.all.isEmpty)
    }
}

/// A "relay" that reads every request and answers none: the client's table of unanswered requests
/// stays bounded, and the relay is given up as unavailable.
@Suite("deletes sent without waiting, to a relay that never answers")
struct DeleteWithoutWaitingSilentRelayTests {
    /// A "relay" on the Unix socket `path` that greets its one client, then reads and drops
    /// everything until the client closes. The caller closes `listener` and joins `thread`.
    static func silentRelay(at path: String) throws -> (listener: Int32, thread: PosixThread) {
        unlink(path)
        let listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, b) in path.utf8.enumerated() { raw[i] = b }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        #expect(listen(listener, 1) == 0)
        let thread = try PosixThread(name: "silent") {
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { return }
            defer { close(fd) }
            let greeting = "iptrtp/2 - hello \(String(repeating: "0123456789abcdef", count: 4)) auth=none\n"
            _ = greeting.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
            var buffer = [UInt8](repeating: 0, count: 65536)
            while buffer.withUnsafeMutableBytes({ recv(fd, $0.baseAddress, $0.count, 0) }) > 0 {}
        }
        return (listener, thread)
    }

    @Test("after 1,024 unanswered deletes the connection is given up, with one line, and the relay counted unavailable")
    func silentRelay() throws {
        let path = "/tmp/iptrtpproxy-test-silent-\(getpid()).sock"
        let silent = try Self.silentRelay(at: path)
        defer {
            unlink(path)
            close(silent.listener)
        }
        let (client, told) = try DeleteWithoutWaitingTests.client(path, timeout: 500)
        var thrown: MediaPlaneError?
        for id in 0..<2000 {
            do {
                try client.deleteSessionsWithoutWaiting(switchboard: "pub", ids: id...id, created: 1)
            } catch let e as MediaPlaneError {
                thrown = e
                break
            }
        }
        #expect(thrown?.planeUnavailable == true)
        #expect(thrown?.message.contains("answered none of the last 1024 requests") == true, "\(String(describing: thrown)) after \(told.all)")
        #expect(told.all.count == 1)
        #expect(told.all.first?.contains("replies to 1025 request(s)") == true, "\(told.all)")
        client.close()
        silent.thread.join()
    }

    @Test("deletes unanswered when their connection ended are sent again on the next: a relay that took the address over frees the session, and nothing is told")
    func resentToTheRelayThatTookOver() throws {
        let path = "/tmp/iptrtpproxy-test-resend-\(getpid()).sock"
        let silent = try Self.silentRelay(at: path)
        defer { unlink(path) }
        let relay = try DeleteWithoutWaitingTests.ServedRelay("resend", gate: 7, port: 39100)
        defer { relay.stop() }
        let session = try RelayControlClient("unix:" + relay.path)
            .allocateSession(switchboard: "pub", request: sideRequest(.a, "127.0.0.1", 20000))
        let (client, told) = try DeleteWithoutWaitingTests.client(path, timeout: 500)
        // The first relay reads the delete and never answers: it dies with it, say.
        try client.deleteSessionsWithoutWaiting(switchboard: "pub", ids: session.handle.id...session.handle.id, created: session.handle.created)
        client.close()  // as the module's pool does when a host fails
        #expect(told.all.isEmpty, "\(told.all)")
        silent.thread.join()
        close(silent.listener)
        // The working relay takes the address over (a standby, a restart).
        unlink(path)
        #expect(rename(relay.path, path) == 0)
        try client.ping()
        #expect(try client.list(switchboard: "pub").sessions.isEmpty, "the delete sent again freed the session")
        #expect(told.all.isEmpty, "\(told.all)")
    }

    @Test("a delete sent again that finds its session gone (the first sending did it) is not told; other refusals are")
    func resentDeleteAlreadyDone() throws {
        let relay = try DeleteWithoutWaitingTests.ServedRelay("redone", gate: 8, port: 39200)
        defer { relay.stop() }
        let session = try RelayControlClient("unix:" + relay.path)
            .allocateSession(switchboard: "pub", request: sideRequest(.a, "127.0.0.1", 20000))
        let (client, told) = try DeleteWithoutWaitingTests.client(relay.path)
        try client.ping()
        // Given up before the replies are read (or as they arrive): done once, sent again at most once.
        try client.deleteSessionsWithoutWaiting(switchboard: "pub", ids: session.handle.id...session.handle.id, created: session.handle.created)
        try client.deleteSessionsWithoutWaiting(switchboard: "nosuch", ids: 1...1, created: 1)
        client.close()
        try client.ping()
        #expect(try client.list(switchboard: "pub").sessions.isEmpty)
        // The unknown switchboard is refused (once, whichever sending it was); the freed session is not told.
        #expect(told.all.count == 1, "\(told.all)")
        #expect(told.all.first?.contains("delete nosuch:1") == true, "\(told.all)")
    }

    @Test("a delete whose second connection ends unanswered too: one line says how many and which")
    func closedWithDeletesUnanswered() throws {
        let path = "/tmp/iptrtpproxy-test-silent2-\(getpid()).sock"
        defer { unlink(path) }
        let first = try Self.silentRelay(at: path)
        let (client, told) = try DeleteWithoutWaitingTests.client(path, timeout: 500)
        try client.deleteSessionsWithoutWaiting(switchboard: "pub", ids: 1...1, created: 1)
        try client.deleteSessionsWithoutWaiting(switchboard: "pub", ids: 3...4, created: 1)
        client.close()
        #expect(told.all.isEmpty, "kept to be sent again: \(told.all)")
        first.thread.join()
        close(first.listener)
        // Sent again to a relay that answers nothing either: the ping times out, the connection
        // is given up, and the deletes have had their two sendings.
        let second = try Self.silentRelay(at: path)
        #expect(throws: MediaPlaneError.self) { try client.ping() }
        #expect(told.all.count == 1)
        #expect(told.all.first?.contains("the replies to 2 request(s) sent without waiting were read; their outcome is unknown (delete pub:1, delete pub:3-4)") == true,
                "\(told.all)")
        second.thread.join()
        close(second.listener)
    }
}
