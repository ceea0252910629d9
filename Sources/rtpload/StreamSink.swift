import CIPTRTPProxy
import Glibc
import Synchronization

/// Receives on every local socket (epoll + recvmmsg), attributes each packet to its stream by
/// SSRC, and records the one-way latency from the send stamp in its payload to the arrival time
/// (the kernel's receive timestamp, or the sink thread's clock).
final class StreamSink {
    private let sockets: [UDPSocket]
    private let expectedSink: [Int]
    private let batch = 64
    private let slot = 2048
    private let arrivalClock: ArrivalClock
    private let buffers: UnsafeMutableRawPointer
    private let controls: UnsafeMutableRawPointer
    private let iovecs: UnsafeMutablePointer<iovec>
    private let messages: UnsafeMutablePointer<ipt_mmsghdr>

    private(set) var received: [UInt64]
    private(set) var latency = LatencyHistogram()
    /// Worst latency per 10 ms of send time, when asked for.
    var timeline: LatencyTimeline?
    /// Our packets that arrived at another socket than their stream's sink (a relay mixing calls up).
    private(set) var misdelivered: UInt64 = 0
    /// Datagrams that are not rtpload's (wrong size, version or SSRC).
    private(set) var foreign: UInt64 = 0
    /// Packets sent during warm-up (before the measured window): not counted.
    private(set) var warmup: UInt64 = 0

    /// Set by the main thread when the run is over.
    private let stop: StopFlag

    init(plan: StreamPlan, sockets: [UDPSocket], arrivalClock: ArrivalClock, stop: StopFlag) {
        self.stop = stop
        self.sockets = sockets
        self.arrivalClock = arrivalClock
        controls = .allocate(byteCount: batch * ReceiveTimestamp.controlBytes, alignment: 16)
        expectedSink = plan.sinkSocket
        buffers = .allocate(byteCount: batch * slot, alignment: 16)
        iovecs = .allocate(capacity: batch)
        messages = .allocate(capacity: batch)
        for k in 0..<batch {
            iovecs[k] = iovec(iov_base: buffers + k * slot, iov_len: slot)
            var m = ipt_mmsghdr()
            m.msg_hdr.msg_iov = iovecs + k
            m.msg_hdr.msg_iovlen = 1
            messages[k] = m
        }
        received = [UInt64](repeating: 0, count: plan.streams.count)
    }

    deinit {
        buffers.deallocate()
        controls.deallocate()
        iovecs.deallocate()
        messages.deallocate()
    }

    /// Receives until `stop` is set; returns then within one epoll timeout (20 ms).
    func run() {
        let ep = epoll_create1(Int32(EPOLL_CLOEXEC))
        precondition(ep >= 0, "epoll_create1 failed")
        defer { close(ep) }
        for (i, s) in sockets.enumerated() {
            var ev = epoll_event()
            ev.events = EPOLLIN.rawValue
            ev.data.u64 = UInt64(i)
            epoll_ctl(ep, EPOLL_CTL_ADD, s.fd, &ev)
        }
        let maxEvents: Int32 = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(maxEvents))
        defer { events.deallocate() }
        while !stop.isSet {
            let n = epoll_wait(ep, events, maxEvents, 20)
            if n <= 0 { continue }
            for e in 0..<Int(n) { drain(socket: Int(events[e].data.u64)) }
        }
        // Anything still queued was sent in time too.
        for i in sockets.indices { drain(socket: i) }
    }

    /// What the sink counted, for the report.
    var report: SinkReport {
        SinkReport(received: received, latency: latency, timeline: timeline, misdelivered: misdelivered, foreign: foreign)
    }

    private func drain(socket index: Int) {
        let fd = sockets[index].fd
        while true {
            for k in 0..<batch {
                messages[k].msg_len = 0
                messages[k].msg_hdr.msg_control = controls + k * ReceiveTimestamp.controlBytes
                messages[k].msg_hdr.msg_controllen = ReceiveTimestamp.controlBytes
            }
            let r = ipt_recvmmsg(fd, messages, UInt32(batch), ipt_msg_dontwait(), nil)
            if r <= 0 { return }
            let now = StampClock.nanoseconds()
            for k in 0..<Int(r) {
                guard let (stream, sentAt, measured) = RTPPacketLayout.read(buffers + k * slot, length: Int(messages[k].msg_len)),
                      Int(stream) < received.count
                else { foreign &+= 1; continue }
                if !measured { warmup &+= 1; continue }
                received[Int(stream)] &+= 1
                if expectedSink[Int(stream)] != index { misdelivered &+= 1 }
                var arrived = now
                if arrivalClock == .kernel, let t = ReceiveTimestamp.nanoseconds(
                    in: controls + k * ReceiveTimestamp.controlBytes, length: Int(messages[k].msg_hdr.msg_controllen))
                {
                    arrived = t
                }
                let oneWay = arrived >= sentAt ? arrived - sentAt : 0
                latency.record(nanoseconds: oneWay)
                timeline?.record(sentAt: sentAt, latency: oneWay)
            }
            if Int(r) < batch { return }
        }
    }
}

/// The sink's figures, handed from its thread to the main one.
struct SinkReport {
    var received: [UInt64]
    var latency: LatencyHistogram
    var timeline: LatencyTimeline?
    var misdelivered: UInt64
    var foreign: UInt64
}

/// Tells the sink thread to finish.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}

/// What a thread hands back when it ends (read after `join`).
final class ThreadOutcome<Value: Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)
    func set(_ v: Value) { value.withLock { $0 = v } }
    var result: Value? { value.withLock { $0 } }
}
