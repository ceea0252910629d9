import CIPTRTPProxy
import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// Sends the plan's streams, either paced (every stream at the same rate, phases spread evenly, so
/// the aggregate is a smooth N×R) or flat out. Packets of one stream due together leave in one
/// sendmmsg. All buffers are made once; nothing is allocated per packet. Created and run on its
/// own thread; `report` is what it hands back.
final class StreamSender {
    private let streamCount: Int
    private let fds: [Int32]
    /// Each stream's destination, written once by `PeerAddress`, and its length.
    private let destinations: UnsafeMutablePointer<sockaddr_in6>
    private let destinationLengths: [socklen_t]
    private var sequence: [UInt16]
    private var timestamp: [UInt32]
    private let payloadType: UInt8
    private let batch: Int
    private let buffers: UnsafeMutableRawPointer
    private let iovecs: UnsafeMutablePointer<iovec>
    private let messages: UnsafeMutablePointer<ipt_mmsghdr>

    /// Packets sent per stream that were due inside the measured window.
    private(set) var sent: [UInt64]
    /// Packets the kernel refused (counted, not retried).
    private(set) var sendErrors: UInt64 = 0

    init(plan: StreamPlan, sockets: [UDPSocket], payloadType: UInt8, batch: Int) {
        streamCount = plan.streams.count
        fds = plan.sourceSocket.map { sockets[$0].fd }
        let destinations = UnsafeMutablePointer<sockaddr_in6>.allocate(capacity: streamCount)
        destinationLengths = plan.streams.enumerated().map { i, s in
            PeerAddress(s.destination.endpoint).write(to: UnsafeMutableRawPointer(destinations + i))
        }
        self.destinations = destinations
        sequence = (0..<streamCount).map { UInt16(truncatingIfNeeded: $0 &* 7919) }
        timestamp = (0..<streamCount).map { UInt32(truncatingIfNeeded: $0 &* 104_729) }
        self.payloadType = payloadType
        self.batch = batch
        buffers = .allocate(byteCount: batch * RTPPacketLayout.packetSize, alignment: 16)
        buffers.initializeMemory(as: UInt8.self, repeating: 0, count: batch * RTPPacketLayout.packetSize)
        iovecs = .allocate(capacity: batch)
        messages = .allocate(capacity: batch)
        for k in 0..<batch {
            iovecs[k] = iovec(iov_base: buffers + k * RTPPacketLayout.packetSize, iov_len: RTPPacketLayout.packetSize)
            var m = ipt_mmsghdr()
            m.msg_hdr.msg_iov = iovecs + k
            m.msg_hdr.msg_iovlen = 1
            messages[k] = m
        }
        sent = [UInt64](repeating: 0, count: streamCount)
    }

    deinit {
        destinations.deallocate()
        buffers.deallocate()
        iovecs.deallocate()
        messages.deallocate()
    }

    /// Sends `ratePerStream` packets per second on every stream from `start` until `end`.
    /// Packet j of the aggregate is due at start + j/(N×R) and belongs to stream j mod N.
    func runPaced(ratePerStream: Double, start: Int64, measureFrom: Int64, end: Int64, tickNanoseconds: Int64) {
        let n = UInt64(streamCount)
        let aggregate = ratePerStream * Double(streamCount)
        let gap = 1e9 / aggregate
        var next: UInt64 = 0  // index of the next packet to send
        var wake = start
        while true {
            MonotonicClock.sleep(until: wake)
            let now = MonotonicClock.nanoseconds()
            if now >= end { break }
            let due = UInt64(Double(now - start) / gap) + 1
            if due - next <= n {
                for j in next..<due { send(stream: Int(j % n), count: 1, measured: now >= measureFrom) }
            } else {
                // More than one packet per stream is due: one sendmmsg per stream.
                for s in 0..<n {
                    var count = Self.packets(below: due, of: s, among: n) - Self.packets(below: next, of: s, among: n)
                    while count > 0 {
                        let k = min(count, UInt64(batch))
                        send(stream: Int(s), count: Int(k), measured: now >= measureFrom)
                        count -= k
                    }
                }
            }
            next = due
            let nextDue = start + Int64((Double(next) * gap).rounded(.up))
            wake = max(nextDue, now + tickNanoseconds)
        }
    }

    /// Sends batches round-robin over the streams as fast as the kernel takes them until `end`.
    func runFlatOut(measureFrom: Int64, end: Int64) {
        while true {
            let now = MonotonicClock.nanoseconds()
            if now >= end { break }
            for s in 0..<streamCount { send(stream: s, count: batch, measured: now >= measureFrom) }
        }
    }

    /// What the sender did, for the report.
    var report: SenderReport { SenderReport(sent: sent, sendErrors: sendErrors) }

    /// How many of the indices 0..<x belong to stream s when streams take turns among n.
    private static func packets(below x: UInt64, of s: UInt64, among n: UInt64) -> UInt64 {
        x > s ? (x - s + n - 1) / n : 0
    }

    private func send(stream s: Int, count: Int, measured: Bool) {
        let stamp = StampClock.nanoseconds()
        for k in 0..<count {
            RTPPacketLayout.write(
                into: buffers + k * RTPPacketLayout.packetSize, payloadType: payloadType,
                sequence: sequence[s], timestamp: timestamp[s], streamIndex: UInt32(s), sentAt: stamp, measured: measured)
            sequence[s] &+= 1
            timestamp[s] &+= RTPPacketLayout.timestampStep
            messages[k].msg_hdr.msg_name = UnsafeMutableRawPointer(destinations + s)
            messages[k].msg_hdr.msg_namelen = destinationLengths[s]
        }
        var offset = 0
        while offset < count {
            let r = retryingOnInterrupt { ipt_sendmmsg(fds[s], messages + offset, UInt32(count - offset), 0) }
            if r <= 0 {
                sendErrors &+= UInt64(count - offset)
                break
            }
            offset += Int(r)
        }
        if measured { sent[s] &+= UInt64(offset) }
    }
}

/// The sender's figures, handed from its thread to the main one.
struct SenderReport {
    var sent: [UInt64]
    var sendErrors: UInt64
}
