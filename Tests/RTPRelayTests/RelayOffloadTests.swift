import IPTRTPProxyCore
import Synchronization
import Testing
@testable import RTPRelay

/// A stand-in for the kernel (nftables needs privileges and a routed setup this test does not
/// make): records what the engine asks and serves counters the test sets.
final class RecordingOffload: StreamOffload {
    var name: String { "recording" }
    private let state = Mutex(Recorded())

    struct Recorded {
        var calls: [String] = []
        var installed: [OffloadedStream.Key: OffloadedStream] = [:]
        var kernelCounters: [OffloadedStream.Key: OffloadCounters] = [:]
        var refuse = false
        var full = false
    }

    /// What the engine asked, in order.
    var calls: [String] {
        get { state.withLock { $0.calls } }
        set { state.withLock { $0.calls = newValue } }
    }
    var installed: [OffloadedStream.Key: OffloadedStream] { state.withLock { $0.installed } }
    var kernelCounters: [OffloadedStream.Key: OffloadCounters] {
        get { state.withLock { $0.kernelCounters } }
        set { state.withLock { $0.kernelCounters = newValue } }
    }
    var refuse: Bool {
        get { state.withLock { $0.refuse } }
        set { state.withLock { $0.refuse = newValue } }
    }
    /// Refuse as a kernel whose table is full does.
    var full: Bool {
        get { state.withLock { $0.full } }
        set { state.withLock { $0.full = newValue } }
    }

    func install(_ stream: OffloadedStream) throws {
        try state.withLock { r in
            r.calls.append("install \(stream.key.session) \(stream.key.stream) \(stream.clients[0]) \(stream.clients[1])")
            if r.refuse { throw MediaPlaneError("refused") }
            if r.full { throw OffloadTableFull("table full") }
            r.installed[stream.key] = stream
        }
    }
    func update(_ stream: OffloadedStream) throws {
        state.withLock { r in
            r.calls.append("update \(stream.key.session) \(stream.key.stream)")
            r.installed[stream.key] = stream
        }
    }
    func remove(_ key: OffloadedStream.Key) {
        state.withLock { r in
            r.calls.append("remove \(key.session) \(key.stream)")
            r.installed[key] = nil
        }
    }
    func counters(_ key: OffloadedStream.Key) -> OffloadCounters? { state.withLock { $0.kernelCounters[key] } }
}

@Suite("relay kernel offload seam")
struct RelayOffloadTests {
    func harness(_ offload: RecordingOffload, _ base: String, _ port: UInt16) throws -> (RelayEngine, ManualClock) {
        let clock = ManualClock()
        let sw = Switchboard(
            name: "pub", gateA: Gate(address: IPAddress(base + ".1")!, basePort: port),
            gateB: Gate(address: IPAddress(base + ".2")!, basePort: port), maxSessions: 2, expiresTimeout: 30)
        var config = RelayConfiguration(switchboards: SwitchboardSet([sw]), workerCount: 1, housekeepingInterval: 0, clock: clock)
        config.offload = offload
        config.logger.logLevel = .critical
        let engine = RelayEngine(configuration: config)
        try engine.start()
        return (engine, clock)
    }

    @Test("a stream whose two clients are latched goes to the kernel; re-pointing and deleting take it back")
    func lifecycle() throws {
        let offload = RecordingOffload()
        let (engine, clock) = try harness(offload, "127.0.26", 32600)
        defer { engine.stop() }
        let alice = try UDPPeer("127.0.26.10", 33000), bob = try UDPPeer("127.0.26.20", 34000)
        let s = try engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.26.10", 33000, learning: 5), sideRequest(.b, "127.0.26.20", 34000, learning: 5)))
        alice.send(payload("a"), to: "127.0.26.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("a"))
        engine.housekeep()
        #expect(offload.calls.isEmpty, "only side A is latched")

        bob.send(payload("b"), to: "127.0.26.2", s.rtpPorts[1])
        #expect(alice.receive()?.payload == payload("b"))
        engine.housekeep()
        #expect(offload.calls == ["install \(s.handle) 0 127.0.26.10:33000 127.0.26.20:34000"])
        let key = OffloadedStream.Key(switchboard: "pub", session: s.handle, stream: 0)
        #expect(offload.installed[key]?.gates.map(\.description) == ["127.0.26.1:\(s.rtpPorts[0])", "127.0.26.2:\(s.rtpPorts[1])"])
        #expect(try engine.list().sessions[0].sides[0].streams[0].offloaded)

        // Kernel counters keep the session alive and show in its counters.
        clock.advance(seconds: 25)
        offload.kernelCounters[key] = OffloadCounters(packets: [100, 90], bytes: [17200, 15480])
        engine.housekeep()
        clock.advance(seconds: 25)
        engine.housekeep()
        let listed = try engine.list().sessions
        #expect(listed.count == 1, "kernel traffic 25 s ago keeps it from expiring")
        #expect(listed[0].sides[0].streams[0].counters.packets == 101)
        #expect(listed[0].sides[1].streams[0].counters.packets == 91)

        try engine.updateSession(switchboard: "pub", session: s.handle, request: sideRequest(.b, "127.0.26.21", 34000))
        #expect(offload.calls.last == "remove \(s.handle) 0")
        #expect(offload.installed.isEmpty)

        let bob2 = try UDPPeer("127.0.26.21", 34000)
        bob2.send(payload("b2"), to: "127.0.26.2", s.rtpPorts[1])
        #expect(alice.receive()?.payload == payload("b2"))
        engine.housekeep()
        #expect(offload.calls.last == "install \(s.handle) 0 127.0.26.10:33000 127.0.26.21:34000")
        try engine.deleteSessions(switchboard: "pub", ids: s.handle.id...s.handle.id, created: s.handle.created)
        #expect(offload.calls.last == "remove \(s.handle) 0")
        #expect(offload.installed.isEmpty)
    }

    @Test("a refused stream stays in user space and is not asked again until a latch moves; always-learn never goes")
    func refusedAndAlwaysLearn() throws {
        let offload = RecordingOffload()
        offload.refuse = true
        let (engine, _) = try harness(offload, "127.0.27", 32700)
        defer { engine.stop() }
        let alice = try UDPPeer("127.0.27.10", 33000), bob = try UDPPeer("127.0.27.20", 34000)
        let s = try engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.27.10", 33000, learning: 5), sideRequest(.b, "127.0.27.20", 34000, learning: 5)))
        alice.send(payload("a"), to: "127.0.27.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("a"))
        bob.send(payload("b"), to: "127.0.27.2", s.rtpPorts[1])
        #expect(alice.receive()?.payload == payload("b"))
        engine.housekeep()
        engine.housekeep()
        #expect(offload.calls.count == 1)
        alice.send(payload("still"), to: "127.0.27.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("still"))

        let t = try engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.27.10", 33100, learning: 5, alwaysLearn: true), sideRequest(.b, "127.0.27.20", 34100, learning: 5)))
        let alice2 = try UDPPeer("127.0.27.10", 33100), bob2 = try UDPPeer("127.0.27.20", 34100)
        alice2.send(payload("x"), to: "127.0.27.1", t.rtpPorts[0])
        #expect(bob2.receive()?.payload == payload("x"))
        bob2.send(payload("y"), to: "127.0.27.2", t.rtpPorts[1])
        #expect(alice2.receive()?.payload == payload("y"))
        engine.housekeep()
        #expect(offload.calls.count == 1)
        #expect(engine.statistics().offload == OffloadStatistics(path: "recording", installs: 0, refusals: 1, tableFull: 0))
    }

    @Test("a full kernel table leaves the stream in user space, and stats count it apart from other refusals")
    func tableFull() throws {
        let offload = RecordingOffload()
        offload.full = true
        let (engine, _) = try harness(offload, "127.0.93", 36900)
        defer { engine.stop() }
        let alice = try UDPPeer("127.0.93.10", 33000), bob = try UDPPeer("127.0.93.20", 34000)
        let s = try engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.93.10", 33000, learning: 5), sideRequest(.b, "127.0.93.20", 34000, learning: 5)))
        alice.send(payload("a"), to: "127.0.93.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("a"))
        bob.send(payload("b"), to: "127.0.93.2", s.rtpPorts[1])
        #expect(alice.receive()?.payload == payload("b"))
        engine.housekeep()
        #expect(offload.installed.isEmpty)
        let stats = engine.statistics()
        #expect(stats.offload == OffloadStatistics(path: "recording", installs: 0, refusals: 0, tableFull: 1))
        #expect(try RelayStatistics(json: stats.json).offload == stats.offload)
        alice.send(payload("still"), to: "127.0.93.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("still"))
        // Room again: the stream goes once a latch moves (as any refused stream), not before.
        offload.full = false
        engine.housekeep()
        #expect(engine.statistics().offload?.installs == 0)
    }

    @Test("a session whose side answers ICE checks stays in user space (consent checks must reach the relay), and leaves the kernel when it starts to")
    func iceStaysInUserSpace() throws {
        let offload = RecordingOffload()
        let (engine, _) = try harness(offload, "127.0.28", 32800)
        defer { engine.stop() }
        let alice = try UDPPeer("127.0.28.10", 33000), bob = try UDPPeer("127.0.28.20", 34000)
        var request = bothSides(sideRequest(.a, "127.0.28.10", 33000, learning: 5), sideRequest(.b, "127.0.28.20", 34000, learning: 5))
        let s = try engine.allocateSession(switchboard: "pub", request: request)
        alice.send(payload("a"), to: "127.0.28.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("a"))
        bob.send(payload("b"), to: "127.0.28.2", s.rtpPorts[1])
        #expect(alice.receive()?.payload == payload("b"))
        engine.housekeep()
        #expect(offload.calls == ["install \(s.handle) 0 127.0.28.10:33000 127.0.28.20:34000"])
        // A re-offer gives side B the relay's ICE credentials: the stream leaves the kernel and stays out.
        request = SessionRequest()
        request[.b].ice = ICECredentials.random()
        try engine.updateSession(switchboard: "pub", session: s.handle, request: request)
        engine.housekeep()
        engine.housekeep()
        #expect(offload.calls == ["install \(s.handle) 0 127.0.28.10:33000 127.0.28.20:34000", "remove \(s.handle) 0"])
        alice.send(payload("user-space"), to: "127.0.28.1", s.rtpPorts[0])
        #expect(bob.receive()?.payload == payload("user-space"))
    }
}
