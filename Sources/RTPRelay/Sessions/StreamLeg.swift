import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// One relay socket (a gate's RTP or RTCP port of one session) and what the relay knows about
/// the client behind it: where the SDP said it is, which source was latched, the learning window,
/// the flood bucket and the counters. Plain data in its shard's flat table, touched only under the
/// shard's lock (`SessionShard`).
struct StreamLeg {
    /// The socket, -1 when the session is free.
    var fd: Int32 = -1
    /// The address from SDP.
    var expected = PeerAddress.none
    /// The source learned from packets; also where packets for this client go.
    var latched = PeerAddress.none
    /// The learning timeout the requests gave (seconds), if any.
    var learningTimeout: UInt32? = nil
    /// Monotonic time (ns) until which a new source may be latched.
    var learningEnds: Int64 = 0
    /// No address was ever given: the first packet's source is latched whenever it comes.
    var learnsFirstSource = true
    /// Re-latch on every new source (asymmetric clients).
    var alwaysLearn = false
    /// The latch changed since the journal last recorded it.
    var latchChanged = false
    /// The kernel forwards this stream; `offloadedPeer` is the client it was installed with.
    var offloaded = false
    var offloadedPeer = PeerAddress.none
    /// The offload refused this stream with the clients in `offloadedPeer`; not retried until a
    /// latch moves.
    var offloadRefused = false

    var packets: UInt64 = 0
    var bytes: UInt64 = 0
    var dropUnknownSource: UInt64 = 0
    var dropNoDestination: UInt64 = 0
    var dropThrottled: UInt64 = 0
    var dropSendFailed: UInt64 = 0
    var dropOversize: UInt64 = 0
    /// Monotonic time (ns) of the last accepted packet; 0 = none.
    var lastPacket: Int64 = 0
    /// Kernel counters already added (offload).
    var offloadPacketsSeen: UInt64 = 0
    var offloadBytesSeen: UInt64 = 0

    /// Flood bucket: packets that may still pass, refilled with time.
    var tokens: Double = 0
    var tokensAt: Int64 = 0

    /// A fresh leg for a new session on socket `fd`.
    init(fd: Int32, burst: Double, now: Int64) {
        self.fd = fd
        tokens = burst
        tokensAt = now
    }

    init() {}

    /// Where packets for this leg's client are sent: the latched source, else the SDP address.
    @inline(__always)
    var destination: PeerAddress { latched.isSet ? latched : expected }

    /// Decides whether a packet from `source` comes from this leg's client, latching it when the
    /// rules allow (see docs/control-protocol.md, "Learning"):
    /// - the latched source always passes;
    /// - always-learn re-latches on any new source;
    /// - while nothing is latched: the SDP address, or any source inside the learning window (or
    ///   any source at all when no address was ever given) is latched;
    /// - inside the window, the SDP address may take the latch back from an earlier source;
    /// - everything else is dropped (no RTP bleed).
    @inline(__always)
    mutating func accepts(_ source: PeerAddress, now: Int64) -> Bool {
        if latched.isSet {
            if source == latched { return true }
            if alwaysLearn || (source == expected && now < learningEnds) {
                latched = source
                latchChanged = true
                return true
            }
            return false
        }
        if source == expected || learnsFirstSource || now < learningEnds {
            latched = source
            latchChanged = true
            learnsFirstSource = false
            return true
        }
        return false
    }

    /// Applies one stream of an alloc or update request: a new address re-points the leg at once
    /// (the latch is forgotten); a new address or timeout restarts the learning window.
    mutating func apply(_ request: StreamRequest, alwaysLearn: Bool, now: Int64, defaultLearningTimeout: UInt32) {
        self.alwaysLearn = alwaysLearn
        if let t = request.learningTimeout { learningTimeout = t }
        if let a = request.address, a.port != 0 {
            expected = PeerAddress(a)
            latched = .none
            latchChanged = true
            learnsFirstSource = false
        }
        if request.address != nil || request.learningTimeout != nil {
            learningEnds = now &+ Int64(learningTimeout ?? defaultLearningTimeout) * 1_000_000_000
        }
    }

    /// Refills the flood bucket for the time passed since the last refill.
    @inline(__always)
    mutating func refill(now: Int64, limit: FloodLimit) {
        let elapsed = now &- tokensAt
        if elapsed > 0 {
            tokens = Swift.min(limit.burst, tokens + Double(elapsed) * limit.packetsPerNanosecond)
            tokensAt = now
        }
    }

    /// The counters in report form; `wall(_:)` turns a monotonic time into Unix seconds.
    func counters(wall: (Int64) -> UInt32) -> StreamCounters {
        var c = StreamCounters(packets: packets, bytes: bytes, lastPacket: lastPacket == 0 ? nil : wall(lastPacket))
        c[.unknownSource] = dropUnknownSource
        c[.noDestination] = dropNoDestination
        c[.throttled] = dropThrottled
        c[.sendFailed] = dropSendFailed
        c[.oversize] = dropOversize
        return c
    }
}
