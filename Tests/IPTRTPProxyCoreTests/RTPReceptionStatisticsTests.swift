import Testing
@testable import IPTRTPProxyCore

/// RFC 3550 A.1 (sequence numbers), A.3 (expected, lost) and A.8 (jitter), without I/O.
@Suite("RTP reception statistics (RFC 3550)")
struct RTPReceptionStatisticsTests {
    static let ms: Int64 = 1_000_000

    /// A PCMU stream (payload type 0, 8 kHz, 20 ms packets): packet `i` carries `seq0 + i` and
    /// timestamp `ts0 + 160 i` and arrives at `20 i` ms plus `offset(i)`.
    static func feed(
        _ stats: inout RTPReceptionStatistics, _ sequences: [UInt16], ts0: UInt32 = 1000, seq0: UInt16? = nil,
        payloadType: UInt8 = 0, ssrc: UInt32 = 0x1234, start: Int64 = 5_000 * ms, offset: (Int) -> Int64 = { _ in 0 }
    ) {
        let first = seq0 ?? sequences.first ?? 0
        for (i, seq) in sequences.enumerated() {
            let n = Int(seq &- first)  // position in the stream by sequence number
            stats.record(
                sequence: seq, timestamp: ts0 &+ UInt32(truncatingIfNeeded: n * 160), ssrc: ssrc, payloadType: payloadType,
                arrival: start + Int64(n) * 20 * ms + offset(i))
        }
    }

    @Test("in order: the first packet is on probation, nothing lost, a constant-rate stream has no jitter")
    func inOrder() {
        var s = RTPReceptionStatistics()
        Self.feed(&s, Array(100..<200))
        #expect(s.expected == 99)
        #expect(s.received == 99)
        #expect(s.lost == 0)
        #expect(s.clockRate == 8000)
        #expect(s.jitter == 0)
        #expect(s.jitterMicroseconds == 0)
    }

    @Test("nothing counts before the second packet in sequence (probation)")
    func probation() {
        var s = RTPReceptionStatistics()
        Self.feed(&s, [500])
        #expect(s.expected == 0 && s.received == 0 && s.lost == 0)
        Self.feed(&s, [700], seq0: 500)  // not in sequence: probation starts again from 700
        #expect(s.expected == 0)
        Self.feed(&s, [701, 702], seq0: 500)
        #expect(s.expected == 2 && s.received == 2)
    }

    @Test("lost packets are the gaps in the sequence numbers")
    func loss() {
        var s = RTPReceptionStatistics()
        let skipped: Set<UInt16> = [10, 20, 21, 50, 77]
        Self.feed(&s, (0..<100).filter { !skipped.contains($0) }, seq0: 0)
        #expect(s.expected == 99)
        #expect(s.received == 94)
        #expect(s.lost == 5)
    }

    @Test("duplicates make lost negative, as A.3 counts them")
    func duplicates() {
        var s = RTPReceptionStatistics()
        Self.feed(&s, Array(0..<50) + [49, 48, 30], seq0: 0)
        #expect(s.expected == 49)
        #expect(s.received == 52)
        #expect(s.lost == -3)
    }

    @Test("reordered packets are neither lost nor counted twice")
    func reordering() {
        var s = RTPReceptionStatistics()
        var order = Array(UInt16(0)..<UInt16(60))
        order.swapAt(10, 11)
        order.swapAt(30, 33)
        Self.feed(&s, order, seq0: 0)
        #expect(s.expected == 59)
        #expect(s.received == 59)
        #expect(s.lost == 0)
    }

    @Test("the sequence number wraps at 65535: the extended highest number keeps counting")
    func wrap() {
        var s = RTPReceptionStatistics()
        let sequences = (0..<200).map { UInt16(truncatingIfNeeded: 65436 + $0) }.filter { $0 != 3 && $0 != 65530 }
        Self.feed(&s, sequences)
        #expect(s.expected == 199)
        #expect(s.lost == 2)
        #expect(s.cycles == 1 << 16)
        #expect(s.jitter == 0)
    }

    @Test("a big jump is believed only when the next packet follows it; the earlier run stays in the totals")
    func resync() {
        var s = RTPReceptionStatistics()
        Self.feed(&s, Array(0..<50), seq0: 0)
        #expect(s.expected == 49)
        // One stray far away: ignored.
        s.record(sequence: 40000, timestamp: 0, ssrc: 0x1234, payloadType: 0, arrival: 10_000 * Self.ms)
        #expect(s.expected == 49 && s.received == 49)
        Self.feed(&s, Array(50..<60), seq0: 0)
        #expect(s.expected == 59 && s.lost == 0)
        // The sender restarts its numbering: two in a row resync.
        Self.feed(&s, Array(20000..<20030), start: 20_000 * Self.ms)
        #expect(s.lost == 0)
        #expect(s.expected == 59 + 29)
        #expect(s.received == 59 + 29)
        Self.feed(&s, Array(20030..<20040).filter { $0 != 20035 }, seq0: 20000, start: 20_000 * Self.ms)
        #expect(s.lost == 1)
    }

    @Test("a new SSRC starts a new source; the old one's figures stay")
    func newSource() {
        var s = RTPReceptionStatistics()
        Self.feed(&s, Array(0..<20).filter { $0 != 5 }, seq0: 0)
        #expect(s.lost == 1)
        Self.feed(&s, Array(9000..<9010), ssrc: 0x9999, start: 9_000 * Self.ms)
        #expect(s.expected == 19 + 9)
        #expect(s.lost == 1)
    }

    @Test("jitter of a stream whose packets arrive alternately on time and 5 ms late converges to 5 ms")
    func jittered() {
        var s = RTPReceptionStatistics()
        Self.feed(&s, Array(0..<500), seq0: 0, offset: { $0 % 2 == 0 ? 0 : 5 * Self.ms })
        // |D| = 40 timestamp units every packet: J converges to 40 (5 ms at 8 kHz).
        let j = s.jitter ?? 0
        #expect((38...40).contains(j))
        #expect((4700...5000).contains(s.jitterMicroseconds ?? 0))
        #expect(s.lost == 0)
    }

    @Test("jitter of uniformly random delays of 0-20 ms averages the RFC's expectation, mean |D| = 20/3 ms")
    func randomJitter() {
        var s = RTPReceptionStatistics()
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        var sum = 0.0
        var samples = 0
        for i in 0..<20000 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            let delay = Int64((seed >> 33) % 20001) * 1000  // 0...20 ms
            s.record(
                sequence: UInt16(truncatingIfNeeded: i), timestamp: UInt32(i * 160), ssrc: 1, payloadType: 8,
                arrival: Int64(i) * 20 * Self.ms + delay)
            if i >= 1000 {
                sum += Double(s.jitterMicroseconds ?? 0) / 1000
                samples += 1
            }
        }
        // J is a running estimate (gain 1/16) of E|D|: its mean over the stream is E|D|.
        let mean = sum / Double(samples)
        #expect(abs(mean - 20.0 / 3) < 0.4, "mean jitter \(mean) ms")
        #expect(s.lost == 0)
    }

    @Test("a dynamic payload type's clock is estimated after two seconds, then jitter is measured")
    func dynamicClock() {
        var s = RTPReceptionStatistics()
        // Opus: 48 kHz, 960 per 20 ms packet.
        for i in 0..<300 {
            s.record(
                sequence: UInt16(i), timestamp: UInt32(i * 960), ssrc: 7, payloadType: 111,
                arrival: 1_000 * Self.ms + Int64(i) * 20 * Self.ms)
            if i == 50 { #expect(s.jitter == nil) }
        }
        #expect(s.clockRate == 48000)
        #expect(s.jitter == 0)
        #expect(s.lost == 0)
    }

    @Test("telephone-event packets beside PCMU do not disturb the jitter")
    func telephoneEvent() {
        var s = RTPReceptionStatistics()
        for i in 0..<100 {
            // Packets 40-49 are a DTMF event: payload type 101, the event's start timestamp.
            let dtmf = (40..<50).contains(i)
            s.record(
                sequence: UInt16(i), timestamp: dtmf ? 40 * 160 : UInt32(i * 160), ssrc: 7, payloadType: dtmf ? 101 : 0,
                arrival: Int64(i) * 20 * Self.ms)
        }
        #expect(s.jitter == 0)
        #expect(s.lost == 0)
    }

    @Test("from packet bytes: RTP is read, non-RTP and muxed RTCP are ignored")
    func bytes() {
        var s = RTPReceptionStatistics()
        func packet(_ seq: UInt16, _ ts: UInt32, b1: UInt8 = 0, version: UInt8 = 2) -> [UInt8] {
            [version << 6, b1, UInt8(seq >> 8), UInt8(seq & 0xff),
             UInt8(ts >> 24), UInt8(ts >> 16 & 0xff), UInt8(ts >> 8 & 0xff), UInt8(ts & 0xff),
             0, 0, 0x12, 0x34] + Array(repeating: 0xd5, count: 160)
        }
        for i in 0..<10 where i != 4 {
            packet(UInt16(i), UInt32(i * 160)).withUnsafeBytes {
                s.record(packet: $0.baseAddress!, length: $0.count, arrival: Int64(i) * 20 * Self.ms)
            }
        }
        for junk in [packet(100, 0, version: 1), packet(200, 0, b1: 200), Array(packet(300, 0).prefix(11))] {
            junk.withUnsafeBytes { s.record(packet: $0.baseAddress!, length: $0.count, arrival: 0) }
        }
        #expect(s.expected == 9)
        #expect(s.received == 8)
        #expect(s.lost == 1)
        #expect(s.jitter == 0)
    }

    @Test("lost is clamped to the 24-bit signed range of a report block")
    func clamp() {
        var s = RTPReceptionStatistics()
        Self.feed(&s, [0, 1, 2], seq0: 0)
        for _ in 0..<10 { Self.feed(&s, [2], seq0: 0) }
        #expect(s.lost == -10)
        var t = RTPReceptionStatistics()
        t.expectedBefore = 100_000_000
        #expect(t.lost == 0x7f_ffff)
    }

    @Test("counters carry expected, lost and jitter through JSON, and add up (jitter: the worst)")
    func countersJSON() throws {
        var a = StreamCounters(packets: 10, bytes: 1720, expected: 12, lost: -2, jitterMicroseconds: 1500)
        let b = StreamCounters(packets: 5, bytes: 860, expected: 6, lost: 3, jitterMicroseconds: 4200)
        var w = JSONWriter()
        a.write(to: &w)
        #expect(try StreamCounters(json: JSONParser.parse(w.text)) == a)
        a.add(b)
        #expect(a.expected == 18 && a.lost == 1 && a.jitterMicroseconds == 4200)
        // A relay before these figures: absent members read as zero and unknown.
        let old = try StreamCounters(json: JSONParser.parse(
            #"{"packets":1,"bytes":2,"drops":{"unknown-source":0,"no-destination":0,"throttled":0,"send-failed":0,"oversize":0},"last-packet":null}"#))
        #expect(old.expected == 0 && old.lost == 0 && old.jitterMicroseconds == nil)
    }
}
