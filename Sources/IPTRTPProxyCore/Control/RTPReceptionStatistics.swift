/// What a receiver learns about one RTP stream from its sequence numbers and timestamps
/// (RFC 3550 appendix A): the extended highest sequence number with wrap-around and the source's
/// probation, resync after a big jump (A.1 `update_seq`), expected / received / cumulative lost
/// (A.3) and the interarrival jitter (A.8, in its integer form).
///
/// Pure arithmetic on fixed-size fields, no I/O, nothing allocated: the relay keeps one per RTP
/// leg and feeds it every packet the leg accepts from its client, under the shard lock the
/// forwarding thread already holds.
///
/// Differences from the RFC's receiver, all in the direction of one report per call:
/// - a resync (A.1's big jump confirmed by the next packet) or a new SSRC starts the source over
///   as the RFC does, but what the earlier run expected and received is kept in the totals;
/// - jitter needs the arrival time in the payload's clock. The clock rate comes from the payload
///   type when it is static (RFC 3551: 0/3/4/5/7/8/9/12/13/15/18 -> 8000, 6 -> 16000, ...; G.722's
///   RTP clock is 8000). For a dynamic payload type (96-127: the SDP's a=rtpmap, which the relay
///   does not see) the rate is estimated from the stream itself over its first two seconds and
///   rounded to the nearest usual rate (8000, 16000, 24000, 32000, 44100, 48000, 90000) when it is
///   within 10% of one; until then, or when none fits, jitter is unknown (nil). Only packets of the
///   payload type the clock belongs to enter the jitter, so interleaved telephone-event (DTMF) or
///   other dynamic types do not disturb it.
public struct RTPReceptionStatistics: Hashable, Sendable {
    /// A.1's constants.
    public static let maxDropout: UInt16 = 3000
    public static let maxMisorder: UInt16 = 100
    public static let minSequential: UInt8 = 2
    static let sequenceModulus: UInt32 = 1 << 16

    // A.1 per-source state.
    var maxSequence: UInt16 = 0
    /// Shifted count of sequence number wraps (`cycles` in the RFC).
    var cycles: UInt32 = 0
    var baseSequence: UInt32 = 0
    var badSequence: UInt32 = 0
    var probation: UInt8 = 0
    /// Packets counted since the source (re)started.
    var receivedNow: UInt64 = 0
    /// Expected and received of earlier runs (before a resync or an SSRC change).
    var expectedBefore: UInt64 = 0
    var receivedBefore: UInt64 = 0
    var ssrc: UInt32 = 0
    /// A packet came: `ssrc` and the sequence state are set.
    var started = false

    // A.8 state.
    /// The payload clock: Hz, 0 while unknown; `unitsPerNanosecond` is the same per ns.
    public private(set) var clockRate: UInt32 = 0
    var unitsPerNanosecond: Double = 0
    /// The payload type the clock belongs to.
    var clockPayloadType: UInt8 = 255
    /// Arrival times are measured from here (ns), so that the conversion stays exact.
    var arrivalBase: Int64 = 0
    var transit: UInt32 = 0
    var haveTransit = false
    /// Jitter in timestamp units, times 16 (the RFC's integer form).
    var jitterScaled: UInt32 = 0
    // Clock estimation for a dynamic payload type: the first packet's arrival and timestamp.
    var estimateType: UInt8 = 255
    var estimateStart: Int64 = 0
    var estimateTimestamp: UInt32 = 0

    public init() {}

    /// Seconds of stream a dynamic payload type's clock is estimated over.
    static let estimationNanoseconds: Int64 = 2_000_000_000
    /// Usual RTP clock rates a dynamic payload type's estimate is rounded to.
    static let usualRates: [UInt32] = [8000, 16000, 24000, 32000, 44100, 48000, 90000]

    /// The RTP clock of a static payload type (RFC 3551 tables 4 and 5), 0 when dynamic or
    /// unassigned.
    @inline(__always)
    public static func staticClockRate(payloadType pt: UInt8) -> UInt32 {
        switch pt {
        case 0, 3, 4, 5, 7, 8, 9, 12, 13, 15, 18: return 8000
        case 6: return 16000
        case 10, 11: return 44100
        case 16: return 11025
        case 17: return 22050
        case 25, 26, 28, 31, 32, 33, 34: return 90000
        default: return 0
        }
    }

    /// Feeds one UDP payload received at `arrival` (monotonic ns). Anything that is not RTP
    /// (shorter than the fixed header, version other than 2, or RTCP multiplexed on the port:
    /// packet types 200-204) is ignored. Reads the 12 header bytes only.
    @inline(__always)
    public mutating func record(packet bytes: UnsafeRawPointer, length: Int, arrival: Int64) {
        guard length >= 12 else { return }
        let b0 = bytes.load(as: UInt8.self)
        guard b0 >> 6 == 2 else { return }
        let b1 = bytes.load(fromByteOffset: 1, as: UInt8.self)
        let pt = b1 & 0x7f
        if pt >= 72 && pt <= 76 { return }  // RTCP SR/RR/SDES/BYE/APP on a muxed port
        let sequence = UInt16(bigEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        let timestamp = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let ssrc = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        record(sequence: sequence, timestamp: timestamp, ssrc: ssrc, payloadType: pt, arrival: arrival)
    }

    /// Feeds one RTP packet's header fields, received at `arrival` (monotonic ns).
    @inline(__always)
    public mutating func record(sequence: UInt16, timestamp: UInt32, ssrc: UInt32, payloadType: UInt8, arrival: Int64) {
        if !started || ssrc != self.ssrc {
            // A new source (the first packet, or the sender changed its SSRC): on probation.
            foldRun()
            started = true
            self.ssrc = ssrc
            initSequence(sequence)
            maxSequence = sequence &- 1
            probation = Self.minSequential
            haveTransit = false
        }
        if !updateSequence(sequence) { return }
        updateJitter(timestamp: timestamp, payloadType: payloadType, arrival: arrival)
    }

    /// A.1 `init_seq`.
    @inline(__always)
    mutating func initSequence(_ sequence: UInt16) {
        baseSequence = UInt32(sequence)
        maxSequence = sequence
        badSequence = Self.sequenceModulus + 1
        cycles = 0
        receivedNow = 0
    }

    /// Keeps what the current run expected and received before the source starts over.
    @inline(__always)
    mutating func foldRun() {
        expectedBefore &+= expectedNow
        receivedBefore &+= receivedNow
        receivedNow = 0
    }

    /// A.1 `update_seq`: false when the packet is not counted (probation, a first big jump).
    @inline(__always)
    mutating func updateSequence(_ sequence: UInt16) -> Bool {
        let delta = sequence &- maxSequence
        if probation > 0 {
            if sequence == maxSequence &+ 1 {
                probation -= 1
                maxSequence = sequence
                if probation == 0 {
                    initSequence(sequence)
                    receivedNow &+= 1
                    return true
                }
            } else {
                probation = Self.minSequential - 1
                maxSequence = sequence
            }
            return false
        } else if delta < Self.maxDropout {
            // In order, with a permissible gap.
            if sequence < maxSequence { cycles &+= Self.sequenceModulus }
            maxSequence = sequence
        } else if UInt32(delta) <= Self.sequenceModulus - UInt32(Self.maxMisorder) {
            // A very large jump: believed only when the next packet follows it.
            if UInt32(sequence) == badSequence {
                foldRun()
                initSequence(sequence)
                haveTransit = false
            } else {
                badSequence = (UInt32(sequence) &+ 1) & (Self.sequenceModulus - 1)
                return false
            }
        } else {
            // A duplicate or a reordered packet: counted (lost may go negative).
        }
        receivedNow &+= 1
        return true
    }

    /// A.8, integer form: J += |D| - ((J + 8) >> 4), J scaled by 16.
    @inline(__always)
    mutating func updateJitter(timestamp: UInt32, payloadType: UInt8, arrival: Int64) {
        if payloadType != clockPayloadType {
            let rate = Self.staticClockRate(payloadType: payloadType)
            if rate != 0 {
                // A static type: its clock is known. A first packet or a codec change to another
                // clock starts the jitter over; another type of the same clock (PCMU and comfort
                // noise) shares it.
                if rate != clockRate {
                    jitterScaled = 0
                    setClock(rate, payloadType: payloadType, arrival: arrival)
                }
            } else if clockRate == 0 && payloadType >= 96 {
                estimateClock(timestamp: timestamp, payloadType: payloadType, arrival: arrival)
                return
            } else {
                return  // another type beside the stream's (telephone-event next to the voice)
            }
        }
        let units = UInt32(truncatingIfNeeded: Int64(Double(arrival &- arrivalBase) * unitsPerNanosecond))
        let transitNow = units &- timestamp
        if haveTransit {
            let d = Int32(bitPattern: transitNow &- transit)
            let magnitude = d < 0 ? UInt32(truncatingIfNeeded: -Int64(d)) : UInt32(d)
            // jitterScaled + |D| - ((jitterScaled + 8) >> 4), in 64 bits: never negative, since
            // (J + 8) >> 4 <= J for J >= 0 ... except J < 8, where it is 0.
            let next = Int64(jitterScaled) + Int64(magnitude) - Int64((jitterScaled &+ 8) >> 4)
            jitterScaled = UInt32(clamping: next)
        }
        transit = transitNow
        haveTransit = true
    }

    @inline(__always)
    mutating func setClock(_ rate: UInt32, payloadType: UInt8, arrival: Int64) {
        clockRate = rate
        clockPayloadType = payloadType
        unitsPerNanosecond = Double(rate) / 1_000_000_000
        arrivalBase = arrival
        haveTransit = false
    }

    /// Rate of a dynamic payload type: timestamp advance over arrival time, after two seconds,
    /// rounded to a usual rate (one division, once).
    mutating func estimateClock(timestamp: UInt32, payloadType: UInt8, arrival: Int64) {
        if payloadType != estimateType {
            estimateType = payloadType
            estimateStart = arrival
            estimateTimestamp = timestamp
            return
        }
        let elapsed = arrival &- estimateStart
        guard elapsed >= Self.estimationNanoseconds else { return }
        let advance = Double(timestamp &- estimateTimestamp)
        let rate = advance * 1_000_000_000 / Double(elapsed)
        let nearest = Self.usualRates.min { abs(rate / Double($0) - 1) < abs(rate / Double($1) - 1) }!
        if abs(rate / Double(nearest) - 1) <= 0.1 {
            setClock(nearest, payloadType: payloadType, arrival: arrival)
            updateJitter(timestamp: timestamp, payloadType: payloadType, arrival: arrival)
            return
        }
        // Nothing usual: start over from this packet.
        estimateStart = arrival
        estimateTimestamp = timestamp
    }

    /// Expected in the current run: extended highest sequence number - base + 1 (A.3).
    var expectedNow: UInt64 {
        guard started && probation == 0 else { return 0 }
        let extendedMax = UInt64(cycles) + UInt64(maxSequence)
        return extendedMax &+ 1 &- UInt64(baseSequence)
    }

    /// Packets expected from the sequence numbers (all runs).
    public var expected: UInt64 { expectedBefore &+ expectedNow }
    /// Packets counted (duplicates included, as A.3 counts them).
    public var received: UInt64 { receivedBefore &+ receivedNow }
    /// Cumulative packets lost, expected - received: negative when duplicates came, clamped to
    /// the 24-bit signed range of an RTCP report block as A.3 does.
    public var lost: Int64 {
        let l = Int64(bitPattern: expected &- received)
        return Swift.min(Swift.max(l, -0x80_0000), 0x7f_ffff)
    }
    /// Interarrival jitter in timestamp units; nil while the clock rate is unknown.
    public var jitter: UInt32? { clockRate == 0 ? nil : jitterScaled >> 4 }
    /// Interarrival jitter in microseconds; nil while the clock rate is unknown.
    public var jitterMicroseconds: UInt32? {
        clockRate == 0 ? nil : UInt32(clamping: UInt64(jitterScaled >> 4) * 1_000_000 / UInt64(clockRate))
    }
}
