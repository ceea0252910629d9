import Glibc
import IPTRTPProxyClient
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Synchronization
import Testing
@testable import RTPRelay

/// A client that gives up an alloc while the relay is busy with it (the module closes its
/// connection after relay_timeout): the relay has read the request, and the reply finds nobody.
/// The session is undone, as nobody would ever delete it. A real relay and control server; the
/// relay is held inside the alloc by a session store that waits on the test.
@Suite("allocs whose client gave up")
struct GivenUpAllocTests {
    /// A store that keeps nothing, and whose first append after `arm()` waits until `release()`:
    /// the alloc that makes it is read, and not yet answered.
    final class GatedStore: SessionStore {
        private let state = Mutex<(armed: Bool, entered: Bool, released: Bool)>((false, false, false))
        var location: String { "gated" }
        var appendedSinceRewrite: Int { 0 }
        func load() throws -> (records: [JournalRecord], skipped: Int) { ([], 0) }
        func rewrite(_ records: [JournalRecord]) throws {}
        func arm() { state.withLock { $0.armed = true } }
        var entered: Bool { state.withLock { $0.entered } }
        func release() { state.withLock { $0.released = true } }
        func append(_ records: [JournalRecord]) throws {
            guard state.withLock({ s -> Bool in
                guard s.armed else { return false }
                s.armed = false
                s.entered = true
                return true
            }) else { return }
            // Bounded: a test that never releases does not hang the relay for ever.
            let deadline = MonotonicClock.milliseconds() + 10_000
            while !state.withLock({ $0.released }) && MonotonicClock.milliseconds() < deadline { usleep(1_000) }
        }
    }

    static func waitUntil(_ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = MonotonicClock.milliseconds() + 5_000
        while MonotonicClock.milliseconds() < deadline {
            if try condition() { return true }
            usleep(2_000)
        }
        return false
    }

    /// A Unix connection to `path` with the greeting read; the caller closes `fd`.
    static func connect(_ path: String) throws -> Int32 {
        let fd = try Socket.connected(to: try SocketAddress(unixPath: path), timeout: 2000)
        var buffer = [UInt8](repeating: 0, count: 512)
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        #expect(poll(&p, 1, 3000) == 1 && recv(fd, &buffer, buffer.count, 0) > 0, "greeting")
        return fd
    }

    @Test("an alloc read before its client closed and answered after: the session is undone")
    func undoneWhenTheReplyFindsNobody() throws {
        let store = GatedStore()
        let h = try RelayHarness(gateA: "127.0.77.1", gateB: "127.0.77.2", port: 39300, maxSessions: 8, store: store)
        let path = "/tmp/iptrtpproxy-test-givenup-\(getpid()).sock"
        let server = ControlServer(engine: h.engine, endpoints: .init(unixPath: path))
        try server.start()
        defer { server.stop(); h.engine.stop() }

        let fd = try Self.connect(path)
        store.arm()
        let line = Array("iptrtp/2 1 alloc pub a.always-learn=0 a.rtp=127.0.77.10:4000\n".utf8)
        #expect(line.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == line.count)
        #expect(Self.waitUntil { store.entered }, "the relay is inside the alloc")
        // The client gives up and closes; then the relay finishes the alloc and answers nobody.
        close(fd)
        store.release()
        #expect(try Self.waitUntil { try h.engine.list().sessions.isEmpty }, "the session is undone")

        // A client that stays gets its alloc, and it stands.
        let stays = try Self.connect(path)
        defer { close(stays) }
        #expect(line.withUnsafeBytes { send(stays, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == line.count)
        var buffer = [UInt8](repeating: 0, count: 512)
        var p = pollfd(fd: stays, events: Int16(POLLIN), revents: 0)
        #expect(poll(&p, 1, 3000) == 1)
        let n = recv(stays, &buffer, buffer.count, 0)
        #expect(n > 0 && String(decoding: buffer[0..<max(n, 0)], as: UTF8.self).hasPrefix("iptrtp/2 1 ok "))
        #expect(try h.engine.list().sessions.count == 1)
    }

    @Test("over TCP (a media host): the module's client times out and closes; the relay sees the FIN and undoes the session")
    func undoneOverTCP() throws {
        let store = GatedStore()
        let h = try RelayHarness(gateA: "127.0.78.1", gateB: "127.0.78.2", port: 39400, maxSessions: 8, store: store)
        let secret = "7c2e9a4b1d8f3e6a5b0c9d2e7f4a1b8c"
        let address = Endpoint(address: IPAddress("127.0.78.9")!, port: 39480)
        let server = ControlServer(engine: h.engine, endpoints: .init(tcp: address, secret: secret))
        try server.start()
        defer { server.stop(); h.engine.stop() }

        let client = RelayControlClient(address: .tcp(address), secret: secret, timeout: 300)
        try client.ping()
        store.arm()
        #expect(throws: MediaPlaneError.self) {
            _ = try client.allocateSession(switchboard: "pub", request: sideRequest(.a, "127.0.78.10", 4000))
        }
        #expect(store.entered, "the relay was inside the alloc when the client gave up")
        store.release()
        #expect(try Self.waitUntil { try h.engine.list().sessions.isEmpty }, "the session is undone")
        // The same client, on a fresh connection, allocates as ever.
        let session = try client.allocateSession(switchboard: "pub", request: sideRequest(.a, "127.0.78.10", 4000))
        #expect(try h.engine.list().sessions.map(\.handle) == [session.handle])
    }
}
