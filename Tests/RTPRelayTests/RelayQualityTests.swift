import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Logging
import Synchronization
import Testing
@testable import RTPRelay

/// Per-stream RTP quality (RFC 3550 A.3/A.8) as `list` and `stats` report it: measured by the
/// forwarding threads on what each client sends, over real UDP on loopback.
@Suite("relay RTP quality")
struct RelayQualityTests {
    /// A 172-byte PCMU packet.
    static func rtp(_ seq: UInt16, _ ts: UInt32, ssrc: UInt32 = 0xCAFE_F00D, payloadType: UInt8 = 0) -> [UInt8] {
        [0x80, payloadType, UInt8(seq >> 8), UInt8(seq & 0xff),
         UInt8(ts >> 24), UInt8(ts >> 16 & 0xff), UInt8(ts >> 8 & 0xff), UInt8(ts & 0xff),
         UInt8(ssrc >> 24), UInt8(ssrc >> 16 & 0xff), UInt8(ssrc >> 8 & 0xff), UInt8(ssrc & 0xff)]
            + Array(repeating: 0xff, count: 160)
    }

    @Test("100 RTP packets with 5 sequence numbers skipped: list shows 5 lost on the sender's stream")
    func lostPackets() throws {
        let h = try RelayHarness(gateA: "127.0.95.1", gateB: "127.0.95.2", port: 36000)
        let alice = try UDPPeer("127.0.95.10", 31000), aliceRTCP = try UDPPeer("127.0.95.10", 31001)
        let bob = try UDPPeer("127.0.95.20", 32000), bobRTCP = try UDPPeer("127.0.95.20", 32001)
        let s = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.95.10", 31000, learning: 5), sideRequest(.b, "127.0.95.20", 32000, learning: 5)))
        let gateA = SocketAddress(Endpoint(address: IPAddress("127.0.95.1")!, port: s.rtpPorts[0]))
        let skipped: Set<Int> = [10, 25, 40, 41, 77]
        var sent = 0, i = 0
        while sent < 100 {
            if !skipped.contains(i) {
                Socket.send(alice.fd, Self.rtp(UInt16(truncatingIfNeeded: 65500 + i), UInt32(i * 160)), to: gateA)
                sent += 1
            }
            i += 1
        }
        // RTP-looking packets on the RTCP port are not measured.
        let gateARTCP = SocketAddress(Endpoint(address: IPAddress("127.0.95.1")!, port: s.rtpPorts[0] + 1))
        for k in 0..<3 { Socket.send(aliceRTCP.fd, Self.rtp(UInt16(k * 7), 0), to: gateARTCP) }
        var got = 0
        while got < 100, bob.receive() != nil { got += 1 }
        #expect(got == 100)
        for _ in 0..<3 { _ = bobRTCP.receive() }

        let session = try #require(try h.engine.list().sessions.first)
        let a = session.sides[0].streams[0]
        // The first packet is the source's probation (RFC 3550 A.1): 104 numbers after it, 99 came.
        #expect(a.counters.lost == 5)
        #expect(a.counters.expected == 104)
        #expect(a.counters.packets == 100)
        #expect(a.clockRate == 8000)
        // The manual clock stands still: every packet "arrives" at once, 160 units early, so the
        // jitter is well above zero, and known.
        #expect((a.jitter ?? 0) > 0)
        #expect(a.counters.jitterMicroseconds != nil)
        #expect(session.sides[0].streams[1].counters.expected == 0)
        #expect(session.sides[0].streams[1].jitter == nil)
        #expect(session.sides[1].streams[0].counters.expected == 0)
        #expect(session.sides[0].counters.lost == 5)

        // The text form and the JSON round trip carry them.
        let listing = try h.engine.list()
        #expect(try SessionListing(json: listing.json) == listing)
        // Relay-wide: `stats` has the lost packets, and keeps them once the session is gone.
        #expect(h.engine.statistics().switchboards[0].counters.lost == 5)
        try h.engine.deleteSessions(switchboard: "pub", ids: s.handle.id...s.handle.id, created: s.handle.created)
        let after = h.engine.statistics().switchboards[0].counters
        #expect(after.lost == 5 && after.expected == 104)
        #expect(after.jitterMicroseconds == nil)
        h.engine.stop()
    }

    @Test("a steady stream (time moving 20 ms a packet) has jitter 0")
    func steadyJitter() throws {
        let h = try RelayHarness(gateA: "127.0.96.1", gateB: "127.0.96.2", port: 36100)
        let alice = try UDPPeer("127.0.96.10", 31000)
        let bob = try UDPPeer("127.0.96.20", 32000)
        let s = try h.engine.allocateSession(switchboard: "pub", request: bothSides(
            sideRequest(.a, "127.0.96.10", 31000, learning: 5), sideRequest(.b, "127.0.96.20", 32000, learning: 5)))
        let gateA = SocketAddress(Endpoint(address: IPAddress("127.0.96.1")!, port: s.rtpPorts[0]))
        // One packet a second, one second of timestamps (8000) apart: the manual clock moves in seconds.
        for i in 0..<6 {
            Socket.send(alice.fd, Self.rtp(UInt16(i), UInt32(i * 8000)), to: gateA)
            #expect(bob.receive() != nil)
            h.time.advance(seconds: 1)
        }
        let a = try #require(try h.engine.list().sessions.first).sides[0].streams[0]
        #expect(a.counters.lost == 0)
        #expect(a.counters.expected == 5)
        #expect(a.jitter == 0)
        h.engine.stop()
    }
}

extension RelayQualityTests {
    @Test("the CLI's list text shows lost and jitter, in the table and per stream")
    func listText() {
        var rtp = StreamCounters(packets: 100, bytes: 17200, expected: 104, lost: 5, jitterMicroseconds: 2500)
        rtp[.throttled] = 0
        let stream = StreamSnapshot(
            gatePort: 36000, expected: nil, latched: nil, learning: false, learningLeft: nil, offloaded: false,
            counters: rtp, jitter: 20, clockRate: 8000)
        let rtcp = StreamSnapshot(
            gatePort: 36001, expected: nil, latched: nil, learning: false, learningLeft: nil, offloaded: false,
            counters: StreamCounters())
        let quiet = StreamSnapshot(
            gatePort: 36000, expected: nil, latched: nil, learning: false, learningLeft: nil, offloaded: false,
            counters: StreamCounters())
        let listing = SessionListing(sessions: [SessionSnapshot(
            switchboard: "pub", handle: SessionHandle(id: 3, created: 1_700_000_000), rtpPorts: [36000, 36000], age: 9, idle: 0,
            sides: [SideSnapshot(side: .a, alwaysLearn: false, streams: [stream, rtcp]),
                    SideSnapshot(side: .b, alwaysLearn: false, streams: [quiet, rtcp])])])
        let text = listing.text(detailed: true)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines[0].contains("LOST-A  LOST-B    JIT-A    JIT-B") && lines[0].hasSuffix("CALL-ID"))
        let row = lines[1].split(separator: " ").map(String.init)
        #expect(row[5] == "100" && row[8] == "5" && row[9] == "0" && row[10] == "2.5ms" && row[11] == "-" && row[12] == "-")
        #expect(text.contains("expected 104 lost 5 jitter 2.5ms (20 @8000Hz)"))
        #expect(lines.filter { $0.contains("rtcp") }.allSatisfy { !$0.contains("lost") })
    }
}

/// Keeps the messages logged at info and above.
final class CapturingLogHandler: LogHandler, @unchecked Sendable {
    let lines = Mutex<[String]>([])
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        let m = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lines.withLock { $0.append("\(event.message) \(m)") }
    }
}

extension RelayQualityTests {
    @Test("one info line per session at delete and at expiry, with each side's final figures")
    func finalLogLines() throws {
        let capture = CapturingLogHandler()
        let h = try RelayHarness(
            gateA: "127.0.94.1", gateB: "127.0.94.2", port: 36200, expires: 5, logger: Logger(label: "test") { _ in capture })
        let alice = try UDPPeer("127.0.94.10", 31000)
        let bob = try UDPPeer("127.0.94.20", 32000)
        var sessions: [AllocatedSession] = []
        for _ in 0..<2 {
            sessions.append(try h.engine.allocateSession(switchboard: "pub", request: bothSides(
                sideRequest(.a, "127.0.94.10", 31000, learning: 1), sideRequest(.b, "127.0.94.20", 32000, learning: 1))))
        }
        let gateA = SocketAddress(Endpoint(address: IPAddress("127.0.94.1")!, port: sessions[0].rtpPorts[0]))
        for i in 0..<12 where i != 6 {
            Socket.send(alice.fd, RelayQualityTests.rtp(UInt16(i), UInt32(i * 160)), to: gateA)
            #expect(bob.receive() != nil)
        }
        let first = sessions[0].handle
        try h.engine.deleteSessions(switchboard: "pub", ids: first.id...first.id, created: first.created)
        var lines = capture.lines.withLock { $0 }.filter { $0.hasPrefix("session ") }
        #expect(lines.count == 1)
        #expect(lines.first?.hasPrefix(
            "session deleted: side a packets=11 bytes=1892 expected=11 lost=1 (9.0%) jitter=") == true, "\(lines)")
        #expect(lines.first?.contains("; side b packets=0 bytes=0 expected=0 lost=0 jitter=-") == true)
        #expect(lines.first?.contains("session=\(first)") == true)

        h.time.advance(seconds: 10)
        h.engine.housekeep()
        lines = capture.lines.withLock { $0 }.filter { $0.hasPrefix("session ") }
        #expect(lines.count == 2)
        #expect(lines.last?.hasPrefix("session expired: side a packets=0") == true, "\(lines)")
        h.engine.stop()
    }
}
