import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import IPTRTPProxyRedis
import Logging
import RedisTestServer
@testable import RTPRelay
@testable import RelayRedisStore

/// A quiet logger for engines and stores under test.
func quietLogger() -> Logger {
    var logger = Logger(label: "test")
    logger.logLevel = .critical
    return logger
}

/// A switchboard named `name` on gates `a` and `b` (both at `port`).
func switchboard(_ name: String = "pub", a: String, b: String, port: UInt16 = 40000, maxSessions: Int = 256) -> Switchboard {
    Switchboard(
        name: name, gateA: Gate(address: IPAddress(a)!, basePort: port), gateB: Gate(address: IPAddress(b)!, basePort: port),
        maxSessions: maxSessions)
}

/// An engine on loopback for `sw` whose sessions live in `store`: round-robin slots (so ports
/// are predictable), no housekeeping thread. Not started.
func engine(_ sw: Switchboard, store: RedisSessionStore) -> RelayEngine {
    var configuration = RelayConfiguration(
        switchboards: SwitchboardSet([sw]), workerCount: 2, housekeepingInterval: 0, slotOrder: .roundRobin,
        logger: quietLogger())
    configuration.sessionStore = store
    return RelayEngine(configuration: configuration)
}

/// A new store for `sw` in `server`'s Redis (short timeouts: the tests kill Redis).
func store(_ sw: Switchboard, _ server: RedisServer) throws -> RedisSessionStore {
    try RedisSessionStore(url: server.url(), switchboards: SwitchboardSet([sw]), logger: quietLogger(), timeoutMilliseconds: 500)
}

/// A started engine for `sw` with a new store in `server`'s Redis; the caller stops the engine.
func startedEngine(_ sw: Switchboard, _ server: RedisServer) throws -> (RedisSessionStore, RelayEngine) {
    let store = try store(sw, server)
    let relay = engine(sw, store: store)
    try relay.start()
    return (store, relay)
}

/// A request for both sides: side A at `a:aPort` (RTCP one above), side B at `b:bPort`.
func request(_ a: String, _ aPort: UInt16, _ b: String, _ bPort: UInt16, learning: UInt32? = 5) -> SessionRequest {
    func side(_ address: String, _ port: UInt16) -> SourceRequest {
        SourceRequest(alwaysLearn: false, streams: (0..<2).map { j in
            StreamRequest(address: Endpoint(address: IPAddress(address)!, port: port + UInt16(j)), learningTimeout: learning)
        }, signal: nil)
    }
    return SessionRequest(sources: [side(a, aPort), side(b, bPort)])
}

/// Polls `condition` (every few milliseconds) until it holds or `seconds` pass; returns whether it held.
func eventually(within seconds: Int = 5, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while true {
        if try condition() { return true }
        if ContinuousClock.now >= deadline { return false }
        usleep(5_000)
    }
}

extension RedisConnection {
    /// The fields and values of hash `key`, fields as text.
    func hash(_ key: String) throws -> [String: [UInt8]] {
        guard case .array(let items) = try command([Array("HGETALL".utf8), Array(key.utf8)]) else { return [:] }
        var out: [String: [UInt8]] = [:]
        var i = 0
        while i + 1 < items.count {
            if case .string(let f) = items[i], case .string(let v) = items[i + 1] { out[String(decoding: f, as: UTF8.self)] = v }
            i += 2
        }
        return out
    }

    /// HLEN of `key`, or -1 when Redis does not answer with a number.
    func hashLength(_ key: String) -> Int64 {
        guard case .integer(let n)? = try? command([Array("HLEN".utf8), Array(key.utf8)]) else { return -1 }
        return n
    }
}

/// What must survive a restart of one listed session: id, created stamp, ports, client addresses and latches.
struct RestoredShape: Hashable, CustomStringConvertible {
    var handle: SessionHandle
    var rtpPorts: [UInt16]
    var expected: [Endpoint?]
    var latched: [Endpoint?]

    init(_ s: SessionSnapshot) {
        handle = s.handle
        rtpPorts = s.rtpPorts
        expected = s.sides.flatMap { $0.streams.map(\.expected) }
        latched = s.sides.flatMap { $0.streams.map(\.latched) }
    }

    var description: String { "\(handle) \(rtpPorts) \(expected) \(latched)" }
}

/// A UDP socket standing for a phone on a loopback address.
final class Phone {
    let fd: Int32
    let endpoint: Endpoint

    init(_ address: String, _ port: UInt16) throws {
        endpoint = Endpoint(address: IPAddress(address)!, port: port)
        fd = try Socket.udp(boundTo: endpoint, nonBlocking: false)
    }

    deinit { close(fd) }

    func send(_ text: String, to address: String, _ port: UInt16) {
        Socket.send(fd, Array(text.utf8), to: SocketAddress(Endpoint(address: IPAddress(address)!, port: port)))
    }

    /// The next datagram's text, or nil when none comes within `milliseconds`.
    func receive(within milliseconds: Int32 = 2000) -> String? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, milliseconds) == 1, let (bytes, _) = Socket.receive(fd, maxLength: 2048) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}
