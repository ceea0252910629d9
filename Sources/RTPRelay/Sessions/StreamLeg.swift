import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// One relay socket (a gate's RTP or RTCP port of one session) and what the relay knows about
/// the client behind it: where the SDP said it is, which source was latched, the learning window,
/// the flood bucket and the counters. Plain data in its shard's flat table, touched only under the
/// shard's lock (`SessionShard`).
struct StreamLeg {
    /// The socket, -1 when the session is free, `sharedSocket` for a live session in
    /// shared-socket mode (its packets come through the thread's shared sockets).
    var fd: Int32 = -1
    /// `fd` of a live leg without a socket of its own.
    static let sharedSocket: Int32 = -2
    /// The address from SDP.
    var expected = PeerAddress.none
    /// The source learned from packets; also where packets for this client go.
    var latched = PeerAddress.none
    /// The learning timeout the requests gave (seconds), if any.
    var learningTimeout: UInt32? = nil
    /// Monotonic time (ns) until which a new source may be latched.
    var learningEnds: Int64 = 0
    /// The host (port 0) the side's SIP messages came from, as the proxy saw it; `.none` if no
    /// request said. Sources from this host may be latched (any port: NAT).
    var signal = PeerAddress.none
    /// The client holds (its SDP address is 0.0.0.0 or ::): nothing is sent to it.
    var held = false
    /// A request described the side (an SDP address, hold, or a signalling address). Until then
    /// nothing is latched: gate B before the answer belongs to nobody.
    var described = false
    /// No SDP address was ever given: the first source from the signalling host is latched
    /// whenever it comes.
    var learnsFirstSource = true
    /// Re-latch on every new source (asymmetric clients).
    var alwaysLearn = false
    /// The side has an ICE-lite agent (`ice=force`): datagrams that look like STUN go to it.
    var answersICE = false
    /// The latched source proved the side's ICE password in a connectivity check: a new SDP
    /// address (the phone's default candidate) does not drop it.
    var iceProven = false
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
    /// RTP legs: sequence numbers, loss and jitter of what the client sends (RFC 3550 A.1/A.3/A.8),
    /// fed by the forwarding thread with every packet that passed the learning check. Unused on
    /// RTCP legs. Kernel-offloaded packets never reach it.
    var reception = RTPReceptionStatistics()
    /// Kernel counters already added (offload).
    var offloadPacketsSeen: UInt64 = 0
    var offloadBytesSeen: UInt64 = 0

    /// Flood bucket: packets that may still pass, refilled with time up to `burst` at
    /// `packetsPerNanosecond` (the switchboard's limit, or the relay's).
    var tokens: Double = 0
    var tokensAt: Int64 = 0
    var burst: Double = 0
    var packetsPerNanosecond: Double = 0

    /// A fresh leg for a new session on socket `fd`, throttled at `limit`.
    init(fd: Int32, limit: FloodLimit, now: Int64) {
        self.fd = fd
        burst = limit.burst
        packetsPerNanosecond = limit.packetsPerNanosecond
        tokens = limit.burst
        tokensAt = now
    }

    init() {}

    /// Where packets for this leg's client are sent: nowhere while the client holds (its SDP said
    /// 0.0.0.0 or ::), else the latched source, else the SDP address.
    @inline(__always)
    var destination: PeerAddress { held ? .none : latched.isSet ? latched : expected }

    /// Decides whether a packet from `source` comes from this leg's client, latching it when the
    /// rules allow (docs/control-protocol.md, "Learning"). Every address in a request is
    /// untrusted and so is every source, so a source is only ever latched from a host the
    /// signalling named:
    /// - the latched source always passes;
    /// - a side that nothing described yet (no SDP address, no hold, no signalling address: gate
    ///   B before the answer) latches nothing;
    /// - always-learn re-latches on any new source once the side is described;
    /// - otherwise a new source must come from the *host* of the SDP address or of the address
    ///   the side's SIP message came from (`signal`), any port (NAT rewrites ports, not the
    ///   phone's public address); a third party elsewhere never latches, inside the learning
    ///   window or not;
    /// - such a source is latched while nothing is latched: the exact SDP address at any time,
    ///   another port inside the learning window, or at any time when the SDP gave no address
    ///   (an unparsable `c=`: only the signalling address is known);
    /// - inside the window, the exact SDP address may take the latch back from an earlier source;
    /// - everything else is dropped (and counted by the caller).
    /// Plain comparisons of fixed-size values: nothing is allocated on the forwarding path.
    @inline(__always)
    mutating func accepts(_ source: PeerAddress, now: Int64) -> Bool {
        if latched.isSet && source == latched { return true }
        guard described else { return false }
        if alwaysLearn {
            latch(source)
            return true
        }
        let fromNamedHost = (expected.isSet && source.sameHost(expected)) || (signal.isSet && source.sameHost(signal))
        guard fromNamedHost else { return false }
        if !latched.isSet {
            guard source == expected || learnsFirstSource || now < learningEnds else { return false }
            latch(source)
            learnsFirstSource = false
            return true
        }
        if source == expected && now < learningEnds {
            latch(source)
            return true
        }
        return false
    }

    @inline(__always)
    private mutating func latch(_ source: PeerAddress) {
        latched = source
        latchChanged = true
        iceProven = false
    }

    /// Latches `source` after it passed a connectivity check with the side's ICE password: when
    /// the phone nominated the pair, or when nothing is latched yet. The password was given only
    /// in the SDP to this side's phone, so the check is the signalling's word for the source.
    mutating func latchChecked(_ source: PeerAddress, nominated: Bool) {
        guard nominated || !latched.isSet, source != latched || !iceProven else { return }
        latched = source
        latchChanged = true
        iceProven = true
        described = true
        learnsFirstSource = false
    }

    /// Applies one stream of an alloc or update request: a new address re-points the leg at once
    /// (the latch is forgotten); an unspecified address (0.0.0.0, ::) is hold: nothing is sent to
    /// the client until a later request re-points it; a signalling address replaces the side's;
    /// a new address or timeout restarts the learning window.
    mutating func apply(
        _ request: StreamRequest, alwaysLearn: Bool, signal: IPAddress?, now: Int64, defaultLearningTimeout: UInt32
    ) {
        self.alwaysLearn = alwaysLearn
        if let signal, !signal.isUnspecified {
            // A proxy on a dual-stack socket sees IPv4 peers as ::ffff:a.b.c.d; packets on an
            // IPv4 gate come from a.b.c.d.
            self.signal = PeerAddress(host: signal.mappedV4 ?? signal)
            described = true
        }
        if let t = request.learningTimeout { learningTimeout = t }
        if let a = request.address {
            if a.address.isUnspecified {
                expected = .none
                held = true
                latched = .none
                latchChanged = true
                iceProven = false
                learnsFirstSource = false
                described = true
            } else if a.port != 0 {
                expected = PeerAddress(a)
                held = false
                if !iceProven {
                    latched = .none
                    latchChanged = true
                }
                learnsFirstSource = false
                described = true
            }
        }
        if request.address != nil || request.learningTimeout != nil {
            learningEnds = now &+ Int64(learningTimeout ?? defaultLearningTimeout) * 1_000_000_000
        }
    }

    /// Refills the flood bucket for the time passed since the last refill.
    @inline(__always)
    mutating func refill(now: Int64) {
        let elapsed = now &- tokensAt
        if elapsed > 0 {
            tokens = Swift.min(burst, tokens + Double(elapsed) * packetsPerNanosecond)
            tokensAt = now
        }
    }

    /// The counters in report form; `wall(_:)` turns a monotonic time into Unix seconds.
    func counters(wall: (Int64) -> UInt32) -> StreamCounters {
        var c = StreamCounters(
            packets: packets, bytes: bytes, lastPacket: lastPacket == 0 ? nil : wall(lastPacket),
            expected: reception.expected, lost: reception.lost, jitterMicroseconds: reception.jitterMicroseconds)
        c[.unknownSource] = dropUnknownSource
        c[.noDestination] = dropNoDestination
        c[.throttled] = dropThrottled
        c[.sendFailed] = dropSendFailed
        c[.oversize] = dropOversize
        return c
    }
}
