import Glibc
import IPTRTPProxyCore
import IPTRTPProxyRedis
import RedisTestServer
import Testing
@testable import RTPRelay
@testable import RelayRedisStore

/// RedisSessionStore under a real engine on loopback and a real redis-server of each test's own.
/// Each test has its own 127.0.21x.0/24 addresses, so they run in parallel.
@Suite("RedisSessionStore with a relay engine and a real redis-server")
struct RedisSessionStoreTests {
    @Test("an engine's live sessions reach Redis, and a new engine with a new store restores exactly them and forwards")
    func restoreAfterRestart() throws {
        let server = try RedisServer()
        let redis = try server.connect()
        let sw = switchboard(a: "127.0.212.1", b: "127.0.212.2", port: 40000, maxSessions: 256)
        let key = RedisSessionCodec.key(sw)
        let first = engine(sw, store: try store(sw, server))
        try first.start()

        // Session 0 is a call between two real phones; the others point at addresses nobody listens on.
        let alice = try Phone("127.0.212.10", 31000), bob = try Phone("127.0.212.20", 32000)
        var sessions = [try first.allocateSession(switchboard: "pub", request: request("127.0.212.10", 31000, "127.0.212.20", 32000))]
        for i in 1..<200 {
            sessions.append(try first.allocateSession(
                switchboard: "pub", request: request("127.0.212.11", 20000 + UInt16(2 * i), "127.0.212.21", 20000 + UInt16(2 * i))))
        }
        alice.send("before", to: "127.0.212.1", sessions[0].rtpPorts[0])
        #expect(bob.receive() == "before")
        first.housekeep()  // journals the latch
        // Re-point side B of every 10th session, delete every 7th.
        var live = Dictionary(uniqueKeysWithValues: sessions.map { ($0.handle.id, $0) })
        var moved = Set<Int>()
        for s in sessions[1...] where s.handle.id % 10 == 0 {
            try first.updateSession(switchboard: "pub", session: s.handle, request: {
                var r = SessionRequest()
                r[.b] = request("127.0.212.1", 1, "127.0.212.22", 50000 + UInt16(s.handle.id)).sources[1]
                return r
            }())
            moved.insert(s.handle.id)
        }
        for s in sessions[1...] where s.handle.id % 7 == 0 {
            try first.deleteSessions(switchboard: "pub", ids: s.handle.id...s.handle.id, created: s.handle.created)
            live[s.handle.id] = nil
            moved.remove(s.handle.id)
        }
        #expect(live.count == 200 - 28)
        let expectedFields = Set(live.keys.map(String.init))

        // The writer catches up on its own: exactly the live sessions, the moved ones with their new address.
        let caughtUp = try eventually {
            let hash = try redis.hash(key)
            return Set(hash.keys) == expectedFields
                && moved.allSatisfy { id in String(decoding: hash[String(id)] ?? [], as: UTF8.self).contains("127.0.212.22:\(50000 + id)") }
        }
        #expect(caughtUp, "Redis holds \(redis.hashLength(key)) fields, \(live.count) live")
        let before = try first.list().sessions.map(RestoredShape.init)
        #expect(before.count == live.count)
        #expect(before.first { $0.handle.id == sessions[0].handle.id }?.latched[0] == alice.endpoint)
        first.stop()
        #expect(redis.hashLength(key) == Int64(live.count))

        // A cold relay: new engine, new store, same Redis.
        let secondStore = try store(sw, server)
        let second = engine(sw, store: secondStore)
        try second.start()
        defer { second.stop() }
        let after = try second.list().sessions.map(RestoredShape.init)
        #expect(after == before)
        #expect(Set(after.map(\.handle.id)) == Set(live.keys))
        for s in live.values { #expect(after.first { $0.handle == s.handle }?.rtpPorts == s.rtpPorts) }
        #expect(secondStore.health.up || (try eventually { secondStore.health.up }))

        // The restored call forwards, both ways, from the latched source.
        alice.send("after", to: "127.0.212.1", sessions[0].rtpPorts[0])
        #expect(bob.receive() == "after")
        bob.send("back", to: "127.0.212.2", sessions[0].rtpPorts[1])
        #expect(alice.receive() == "back")
        // The new store keeps writing: a new session and a deletion reach Redis.
        let extra = try second.allocateSession(switchboard: "pub", request: request("127.0.212.11", 60000, "127.0.212.21", 60000))
        #expect(live[extra.handle.id] == nil)
        try second.deleteSessions(switchboard: "pub", ids: sessions[0].handle.id...sessions[0].handle.id, created: sessions[0].handle.created)
        let fields = expectedFields.subtracting([String(sessions[0].handle.id)]).union([String(extra.handle.id)])
        #expect(try eventually { Set(try redis.hash(key).keys) == fields })
        withExtendedLifetime(server) {}
    }

    @Test("Redis killed under a running engine: allocations go on, health goes down, and an empty Redis on the same port gets every live session back")
    func redisDownAndBack() throws {
        var server = try RedisServer()
        let port = server.port
        let sw = switchboard(a: "127.0.213.1", b: "127.0.213.2", port: 40000, maxSessions: 128)
        let key = RedisSessionCodec.key(sw)
        let (store, relay) = try startedEngine(sw, server)
        defer { relay.stop() }
        var live: [SessionHandle] = []
        for i in 0..<20 {
            live.append(try relay.allocateSession(switchboard: "pub", request: request("127.0.213.11", 20000 + UInt16(2 * i), "127.0.213.21", 20000)).handle)
        }
        let redis = try server.connect()
        #expect(try eventually { redis.hashLength(key) == 20 })
        #expect(try eventually { store.health.up })

        server.killHard()
        for i in 20..<50 {
            live.append(try relay.allocateSession(switchboard: "pub", request: request("127.0.213.11", 20000 + UInt16(2 * i), "127.0.213.21", 20000)).handle)
        }
        for h in live[0..<5] { try relay.deleteSessions(switchboard: "pub", ids: h.id...h.id, created: h.created) }
        live.removeFirst(5)
        #expect(try eventually { !store.health.up }, "health: \(store.health)")
        #expect(store.health.detail != nil)
        #expect(try relay.list().sessions.count == live.count)

        server = try RedisServer(port: port)  // the same Redis, back, empty
        let back = try server.connect()
        #expect(back.hashLength(key) == 0 || back.hashLength(key) == Int64(live.count))
        #expect(try eventually { back.hashLength(key) == Int64(live.count) && store.health.up }, "health: \(store.health), HLEN \(back.hashLength(key))")
        #expect(Set(try back.hash(key).keys) == Set(live.map { String($0.id) }))
        // Each value is the session's own record, as a cold relay would read it.
        for (field, value) in try back.hash(key) {
            let records = try RedisSessionCodec.records(field: Array(field.utf8), value: value, switchboard: sw).get()
            #expect(live.contains(records[0].session))
        }
        withExtendedLifetime(server) {}
    }

    @Test("Redis stopped (SIGSTOP) under a running engine: allocations and deletes go on without it, health goes down; continued, it holds exactly the live sessions",
          .timeLimit(.minutes(1)))
    func redisStoppedAndContinued() throws {
        let server = try RedisServer()
        defer { server.resume() }  // a failed check must not leave it stopped
        let sw = switchboard(a: "127.0.215.1", b: "127.0.215.2", port: 40000, maxSessions: 128)
        let key = RedisSessionCodec.key(sw)
        let (store, relay) = try startedEngine(sw, server)
        defer { relay.stop() }
        var live: [SessionHandle] = []
        func allocate(_ i: Int) throws {
            live.append(try relay.allocateSession(switchboard: "pub", request: request("127.0.215.11", 20000 + UInt16(2 * i), "127.0.215.21", 20000)).handle)
        }
        for i in 0..<20 { try allocate(i) }
        let redis = try server.connect()
        #expect(try eventually { redis.hashLength(key) == 20 && store.health.up })

        server.pause()
        // The control path never waits for Redis: these return while it is stopped (a hang here
        // ends the test at its time limit).
        for i in 20..<50 { try allocate(i) }
        for h in live[0..<5] { try relay.deleteSessions(switchboard: "pub", ids: h.id...h.id, created: h.created) }
        live.removeFirst(5)
        #expect(try relay.list().sessions.count == live.count)
        #expect(try eventually { !store.health.up }, "health: \(store.health)")

        server.resume()
        let back = try server.connect()
        #expect(try eventually(within: 10) { back.hashLength(key) == Int64(live.count) && store.health.up },
                "health: \(store.health), HLEN \(back.hashLength(key))")
        #expect(Set(try back.hash(key).keys) == Set(live.map { String($0.id) }), "the deletes made while it was stopped reached it too")
    }

    @Test("two relays with different gates share one Redis, even under one switchboard name, and never touch each other's hash")
    func twoSwitchboards() throws {
        let server = try RedisServer()
        let redis = try server.connect()
        let one = switchboard("pub", a: "127.0.214.1", b: "127.0.214.2", port: 40000, maxSessions: 64)
        let two = switchboard("pub", a: "127.0.214.3", b: "127.0.214.4", port: 40000, maxSessions: 64)
        let (keyOne, keyTwo) = (RedisSessionCodec.key(one), RedisSessionCodec.key(two))
        #expect(keyOne != keyTwo)
        var first = engine(one, store: try store(one, server))
        let second = engine(two, store: try store(two, server))
        try first.start()
        try second.start()
        defer { second.stop() }
        var handles: [SessionHandle] = []
        for i in 0..<5 {
            handles.append(try first.allocateSession(switchboard: "pub", request: request("127.0.214.11", 20000 + UInt16(2 * i), "127.0.214.21", 20000)).handle)
        }
        for i in 0..<7 {
            _ = try second.allocateSession(switchboard: "pub", request: request("127.0.214.13", 20000 + UInt16(2 * i), "127.0.214.23", 20000))
        }
        #expect(try eventually { redis.hashLength(keyOne) == 5 && redis.hashLength(keyTwo) == 7 })
        let twoBefore = try redis.hash(keyTwo)

        // Relay one restarts (its resync replaces its own hash), then frees everything.
        first.stop()
        first = engine(one, store: try store(one, server))
        try first.start()
        defer { first.stop() }
        #expect(try first.list().sessions.map(\.handle) == handles)
        for h in handles { try first.deleteSessions(switchboard: "pub", ids: h.id...h.id, created: h.created) }
        #expect(try eventually { redis.hashLength(keyOne) == 0 })
        #expect(try redis.hash(keyTwo) == twoBefore)
        #expect(try second.list().sessions.count == 7)
        // Nothing else was written.
        guard case .array(let keys) = try redis.command("KEYS", "*") else { Issue.record("KEYS"); return }
        #expect(keys == [.string(Array(keyTwo.utf8))])
        withExtendedLifetime(server) {}
    }
}
