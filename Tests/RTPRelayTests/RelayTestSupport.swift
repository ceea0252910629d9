import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Logging
import Synchronization
@testable import RTPRelay

/// A journal file path of this test process, `/tmp/iptrtpproxy-test-KIND-NAME-PID`, with neither
/// the file nor its lock file (`PATH.lock`, `SessionJournal`'s) left from an earlier run.
func freshJournalPath(_ kind: String, _ name: String) -> String {
    let path = "/tmp/iptrtpproxy-test-\(kind)-\(name)-\(getpid())"
    unlink(path)
    unlink(path + ".lock")
    return path
}

/// A clock the test moves: learning windows, expiry and the flood bucket without waiting.
final class ManualClock: RelayClock {
    private let now = Mutex((mono: Int64(1_000_000_000_000), wall: UInt32(1_700_000_000)))

    func monotonicNanoseconds() -> Int64 { now.withLock { $0.mono } }
    func wallSeconds() -> UInt32 { now.withLock { $0.wall } }

    /// Moves both clocks forward.
    func advance(seconds: Int) {
        now.withLock {
            $0.mono += Int64(seconds) * 1_000_000_000
            $0.wall += UInt32(seconds)
        }
    }
}

/// A UDP socket standing for a phone (or an attacker) on a loopback address.
final class UDPPeer {
    let fd: Int32
    let endpoint: Endpoint

    init(_ address: String, _ port: UInt16) throws {
        endpoint = Endpoint(address: IPAddress(address)!, port: port)
        fd = try Socket.udp(boundTo: endpoint, nonBlocking: false)
    }

    deinit { close(fd) }

    /// Sends `payload` to `address:port`.
    func send(_ payload: String, to address: String, _ port: UInt16) {
        let bytes = Array(payload.utf8)
        Socket.send(fd, bytes, to: SocketAddress(Endpoint(address: IPAddress(address)!, port: port)))
    }

    /// The next datagram and its source, or nil when none comes within `milliseconds`.
    func receive(within milliseconds: Int32 = 2000) -> (payload: String, from: Endpoint)? {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&p, 1, milliseconds) == 1 else { return nil }
        guard let (bytes, from) = Socket.receive(fd, maxLength: 2048) else { return nil }
        return (String(decoding: bytes, as: UTF8.self), from.endpoint!)
    }

    /// Every payload already queued, without waiting.
    func drain() -> [String] {
        var out: [String] = []
        while let r = receive(within: 0) { out.append(r.payload) }
        return out
    }
}

/// An engine on one switchboard with a manual clock and no housekeeping thread.
struct RelayHarness {
    let engine: RelayEngine
    /// The clock the engine reads; tests move it.
    let time: ManualClock
    let switchboard: Switchboard

    init(
        gateA: String, gateB: String, port: UInt16, portB: UInt16? = nil, maxSessions: Int = 4,
        expires: UInt32 = 60, resurrection: UInt32 = 10, flood: FloodLimit = FloodLimit(),
        journal: String? = nil, learningDefault: UInt32 = 10, clock: ManualClock? = nil,
        slotOrder: SessionSlots.Order = .roundRobin, localAddresses: LocalAddresses? = nil,
        maxStreamPPS: UInt32? = nil, maxStreamBurst: UInt32? = nil, logger: Logger? = nil, ice: ICEPolicy = .remove,
        sharedSockets: (any PortSteering)? = nil, keptSessions: Int? = nil, store: (any SessionStore)? = nil
    ) throws {
        time = clock ?? ManualClock()
        var switchboard = Switchboard(
            name: "pub", gateA: Gate(address: IPAddress(gateA)!, basePort: port),
            gateB: Gate(address: IPAddress(gateB)!, basePort: portB ?? port), maxSessions: maxSessions,
            expiresTimeout: expires, resurrectionTimeout: resurrection,
            maxStreamPPS: maxStreamPPS, maxStreamBurst: maxStreamBurst)
        switchboard.ice = ice
        self.switchboard = switchboard
        // Quiet unless the test brings its own logger.
        var quiet = Logger(label: "test")
        quiet.logLevel = .critical
        var configuration = RelayConfiguration(
            switchboards: SwitchboardSet([switchboard]), workerCount: 2, journalPath: journal,
            defaultLearningTimeout: learningDefault, floodLimit: flood, housekeepingInterval: 0,
            clock: time, localAddresses: localAddresses, slotOrder: slotOrder, logger: logger ?? quiet)
        configuration.sharedSockets = sharedSockets
        configuration.keptSessions = keptSessions
        configuration.sessionStore = store
        engine = RelayEngine(configuration: configuration)
        try engine.start()
    }
}

/// A request for one side: the client's SDP RTP address (RTCP one above) and learning window.
/// `signal` is the address the side's SIP message came from (the relay latches only from it or
/// from the SDP's host).
func sideRequest(
    _ side: GateSide, _ address: String, _ port: UInt16, learning: UInt32? = nil, alwaysLearn: Bool = false,
    signal: String? = nil
) -> SessionRequest {
    var r = SessionRequest()
    r[side] = SourceRequest(alwaysLearn: alwaysLearn, streams: (0..<2).map { j in
        StreamRequest(address: Endpoint(address: IPAddress(address)!, port: port + UInt16(j)), learningTimeout: learning)
    }, signal: signal.map { IPAddress($0)! })
    return r
}

/// Both sides in one request.
func bothSides(_ a: SessionRequest, _ b: SessionRequest) -> SessionRequest {
    SessionRequest(sources: [a[.a], b[.b]])
}

/// Unique payloads per test run.
func payload(_ tag: String) -> String { "rtp-\(tag)-" + String(repeating: "x", count: 40) }

extension UDPPeer {
    /// Sends `count` tagged packets to `address:port`.
    func send(_ count: Int, _ tag: String, to address: String, _ port: UInt16) {
        for i in 0..<count { send(payload("\(tag)\(i)"), to: address, port) }
    }
}

extension RelayEngine {
    /// The counters of side `side`, stream `stream` (0 RTP, 1 RTCP) of the only listed session
    /// with id `id`, read once the relay has handled at least `atLeast` drops of `reason` (or a
    /// second has passed): the forwarding threads run on their own.
    func streamCounters(
        id: Int, _ side: GateSide, _ stream: Int, waitingFor reason: DropReason, atLeast: UInt64
    ) throws -> StreamCounters {
        var c = StreamCounters()
        for _ in 0..<200 {
            let s = try list().sessions.first { $0.handle.id == id }!
            c = s.sides[side.rawValue].streams[stream].counters
            if c[reason] >= atLeast { break }
            var pause = timespec(tv_sec: 0, tv_nsec: 5_000_000)
            nanosleep(&pause, nil)
        }
        return c
    }
}
