import Glibc
import IPTRTPProxyCore
import RedisTestServer
import Testing

@testable import IPTRTPProxyRedis

private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// A signal disposition as a number, to compare two.
private func handlerBits(_ action: sigaction) -> UInt {
    withUnsafeBytes(of: action.__sigaction_handler) { $0.load(as: UInt.self) }
}

/// Each test starts its own redis-server (RedisServer), so they run in parallel without sharing keys.
@Suite("RedisConnection against a real redis-server")
struct RedisConnectionTests {
    @Test func binaryValuesRoundTrip() throws {
        let server = try RedisServer()
        let redis = try server.connect()
        let value: [UInt8] = [0, 1, 0, 0xFF, 0x0D, 0x0A, 0, 0x80]
        let key: [UInt8] = [0x6B, 0, 0x6B]  // "k\0k"
        #expect(try redis.command([bytes("SET"), key, value]) == .status("OK"))
        #expect(try redis.command([bytes("GET"), key]) == .string(value))
        #expect(try redis.command([bytes("GET"), bytes("k")]) == .null)
        #expect(try redis.command([bytes("SET"), bytes("empty"), []]) == .status("OK"))
        #expect(try redis.command("GET", "empty") == .string([]))
        #expect(try redis.command("STRLEN", "k\u{0}k") == .integer(Int64(value.count)))
        #expect(try redis.command("INCRBY", "n", "-9223372036854775807") == .integer(-9_223_372_036_854_775_807))
        #expect(!redis.isBroken)
    }

    @Test func hashesAndNestedArrays() throws {
        let server = try RedisServer()
        let redis = try server.connect()
        #expect(try redis.command("HSET", "h", "a", "1", "b", "") == .integer(2))
        guard case .array(let items) = try redis.command("HGETALL", "h"), items.count == 4 else {
            Issue.record("HGETALL is not an array of 4")
            return
        }
        var fields: [[UInt8]: RedisReply] = [:]
        for i in stride(from: 0, to: 4, by: 2) {
            guard case .string(let field) = items[i] else { Issue.record("field \(items[i])"); return }
            fields[field] = items[i + 1]
        }
        #expect(fields == [bytes("a"): .string(bytes("1")), bytes("b"): .string([])])
        #expect(try redis.command("HGETALL", "missing") == .array([]))
        let script = "return {1, {2, {'x', false}}, redis.status_reply('FINE'), redis.error_reply('BAD thing')}"
        #expect(
            try redis.command("EVAL", script, "0")
                == .array([
                    .integer(1), .array([.integer(2), .array([.string(bytes("x")), .null])]), .status("FINE"),
                    .error("BAD thing"),
                ]))
        #expect(try redis.command("EVAL", "return nil", "0") == .null)
    }

    @Test func pipelineOfAThousand() throws {
        let server = try RedisServer()
        let redis = try server.connect()
        let commands = (0..<1000).map { i -> [[UInt8]] in
            i % 2 == 0 ? [bytes("INCR"), bytes("counter")] : [bytes("SET"), bytes("k\(i)"), [UInt8](repeating: UInt8(i & 0xFF), count: i)]
        }
        let replies = try redis.pipeline(commands)
        #expect(replies.count == 1000)
        for (i, reply) in replies.enumerated() {
            #expect(reply == (i % 2 == 0 ? .integer(Int64(i / 2 + 1)) : .status("OK")), "reply \(i)")
        }
        #expect(try redis.command("GET", "k999") == .string([UInt8](repeating: UInt8(truncatingIfNeeded: 999), count: 999)))
        #expect(try redis.pipeline([]) == [])
        // Error replies inside a pipeline come back in place.
        #expect(
            try redis.pipeline([[bytes("INCR"), bytes("k1")], [bytes("PING")]])
                == [.error("ERR value is not an integer or out of range"), .status("PONG")])
    }

    @Test func errorRepliesAreReturnedNotThrown() throws {
        let server = try RedisServer()
        let redis = try server.connect()
        #expect(try redis.command("SET", "s", "v") == .status("OK"))
        guard case .error(let message) = try redis.command("LPUSH", "s", "x") else {
            Issue.record("LPUSH on a string is not an error reply")
            return
        }
        #expect(message.hasPrefix("WRONGTYPE"))
        guard case .error = try redis.command("NOSUCHCOMMAND") else {
            Issue.record("an unknown command is not an error reply")
            return
        }
        #expect(!redis.isBroken)
        #expect(try redis.command("PING") == .status("PONG"))
    }

    @Test func misuseThrowsWithoutBreaking() throws {
        let server = try RedisServer()
        let redis = try server.connect()
        #expect(throws: RedisError.self) { try redis.command([]) }
        #expect(throws: RedisError.self) { try redis.pipeline([[bytes("PING")], []]) }
        #expect(!redis.isBroken)
        #expect(try redis.command("PING") == .status("PONG"))
        #expect(throws: RedisError.self) { try RedisConnection(url: server.url(), timeoutMilliseconds: 0) }
    }

    @Test func connectionRefusedThrowsQuickly() throws {
        let port = try LoopbackSocket.freePort()
        let url = RedisURL(host: "127.0.0.1", port: port)
        let start = ContinuousClock.now
        do {
            _ = try RedisConnection(url: url, timeoutMilliseconds: 1000)
            Issue.record("connected to a port nothing listens on")
        } catch let error as RedisError {
            #expect(error.description.hasPrefix("redis redis://127.0.0.1:\(port)/0: connect: "))
            #expect(error.description.contains("refused"), "\(error)")
        }
        #expect(ContinuousClock.now - start < .seconds(5))
    }

    @Test func unknownHostThrows() {
        #expect(throws: RedisError.self) {
            try RedisConnection(url: RedisURL(host: "no-such-host.invalid"), timeoutMilliseconds: 1000)
        }
    }

    @Test func authWithPassword() throws {
        let server = try RedisServer(password: "s3cret pass")
        let redis = try server.connect()
        #expect(try redis.command("PING") == .status("PONG"))

        do {
            _ = try RedisConnection(url: server.url(password: "wrong"), timeoutMilliseconds: 2000)
            Issue.record("AUTH with a wrong password succeeded")
        } catch let error as RedisError {
            #expect(error.description.hasPrefix("redis redis://:***@127.0.0.1:\(server.port)/0: AUTH: "), "\(error)")
            #expect(!error.description.contains("wrong"))
        }
        // Without a password the connection opens, and commands get NOAUTH error replies.
        let anonymous = try RedisConnection(url: server.url(password: .some(nil)), timeoutMilliseconds: 2000)
        guard case .error(let message) = try anonymous.command("GET", "k") else {
            Issue.record("no NOAUTH")
            return
        }
        #expect(message.hasPrefix("NOAUTH"))
    }

    @Test func selectDatabase() throws {
        let server = try RedisServer()
        let db3 = try server.connect(database: 3)
        #expect(try db3.command("SET", "where", "three") == .status("OK"))
        #expect(try db3.command("GET", "where") == .string(bytes("three")))
        let db0 = try server.connect()
        #expect(try db0.command("GET", "where") == .null)
        #expect(try db0.command("SELECT", "3") == .status("OK"))
        #expect(try db0.command("GET", "where") == .string(bytes("three")))
        do {
            _ = try server.connect(database: 9999)  // redis-server has 16 databases by default
            Issue.record("SELECT 9999 succeeded")
        } catch let error as RedisError {
            #expect(error.description.contains("SELECT 9999: ERR"), "\(error)")
        }
    }

    @Test func killedServerBreaksTheConnection() throws {
        let server = try RedisServer()
        let redis = try server.connect()
        #expect(try redis.command("SET", "a", "1") == .status("OK"))
        server.killHard()
        #expect(throws: RedisError.self) { try redis.command("GET", "a") }
        #expect(redis.isBroken)
        do {
            _ = try redis.command("PING")
            Issue.record("a broken connection answered")
        } catch let error as RedisError {
            #expect(error.description.contains("broken"))
        }
        #expect(throws: RedisError.self) { try redis.pipeline([[bytes("PING")]]) }
    }

    /// Writing a large pipeline to a killed server gets EPIPE on a reset connection; the command
    /// must throw, not let SIGPIPE kill the test process (its disposition is left as it is).
    @Test func writeToAResetConnectionRaisesNoSIGPIPE() throws {
        var action = sigaction()
        sigaction(SIGPIPE, nil, &action)
        let server = try RedisServer()
        let redis = try server.connect()
        #expect(try redis.command("PING") == .status("PONG"))
        server.killHard()
        let big = [UInt8](repeating: 0x61, count: 64 * 1024)
        let commands = (0..<256).map { _ in [bytes("SET"), bytes("big"), big] }  // 16 MiB
        #expect(throws: RedisError.self) { try redis.pipeline(commands) }
        #expect(redis.isBroken)
        var after = sigaction()
        sigaction(SIGPIPE, nil, &after)
        #expect(handlerBits(after) == handlerBits(action))
        var pending = sigset_t()
        sigpending(&pending)
        #expect(sigismember(&pending, SIGPIPE) == 0)
    }

    @Test func serverThatNeverAnswersTimesOut() throws {
        let listener = try LoopbackSocket(listening: true)
        let url = RedisURL(host: "127.0.0.1", port: listener.port)
        let redis = try RedisConnection(url: url, timeoutMilliseconds: 300)  // the kernel accepts for it
        let start = ContinuousClock.now
        do {
            _ = try redis.command("PING")
            Issue.record("a silent server answered")
        } catch let error as RedisError {
            #expect(error.description.hasPrefix("redis redis://127.0.0.1:\(listener.port)/0: PING: "), "\(error)")
            #expect(error.description.contains("timed out after 300 ms"), "\(error)")
        }
        #expect(redis.isBroken)
        #expect(ContinuousClock.now - start < .seconds(10))
        // A pipeline, on a fresh connection, too.
        let again = try RedisConnection(url: url, timeoutMilliseconds: 300)
        #expect(throws: RedisError.self) { try again.pipeline([[bytes("PING")], [bytes("PING")]]) }
        #expect(again.isBroken)
    }

    @Test func silentServerWithPasswordFailsTheConnect() throws {
        let listener = try LoopbackSocket(listening: true)
        let url = RedisURL(host: "127.0.0.1", port: listener.port, password: "pw")
        #expect(throws: RedisError.self) { try RedisConnection(url: url, timeoutMilliseconds: 300) }
    }
}
