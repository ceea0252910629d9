import CIPTRTPProxy
import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Logging

/// One forwarding thread over one `SessionShard`: it waits in the shard's epoll set and, for
/// each readable socket, forwards one batch holding the shard's lock, so a session's legs are
/// only ever contended by the control path and housekeeping, never by another forwarding thread.
/// The batch memory and the backlog flag belong to the thread alone.
struct RelayWorker: Sendable {
    let shard: LockedShard
    let clock: any RelayClock
    let coalescing: timespec
    let logger: Logger
    /// Shared-socket mode: the gates' port ranges, to find each packet's leg; nil: a socket per port.
    let ports: GatePortMap?
    /// Forwarding threads of the engine (a session's thread is its global index modulo this).
    let shardCount: Int
    let dontWait = ipt_msg_dontwait()

    init(
        shard: LockedShard, clock: any RelayClock, coalescingMicroseconds: Int, logger: Logger,
        ports: GatePortMap? = nil, shardCount: Int = 1
    ) {
        self.shard = shard
        self.ports = ports
        self.shardCount = shardCount
        self.clock = clock
        coalescing = timespec(tv_sec: 0, tv_nsec: coalescingMicroseconds * 1000)
        self.logger = logger
    }

    /// Starts the thread (`ipt-relay-N`); it runs until `stop` becomes readable (the shard's epoll
    /// set holds it).
    func start(stop: WakeupPipe) throws -> PosixThread {
        let epollFD = shard.withLock { $0.epollFD }
        return try PosixThread(name: "ipt-relay-\(shard.index)") { [self] in run(epollFD: epollFD) }
    }

    private func run(epollFD: Int32) {
        let capacity: Int32 = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
        defer { events.deallocate() }
        let batch = PacketBatch()
        let sharedBatch = ports.map { _ in SharedPacketBatch() }
        let (shared4, shared6) = shard.withLock { ($0.shared?.receive4 ?? -1, $0.shared?.receive6 ?? -1) }
        /// A recvmmsg of the last round came back full: packets are queued, do not wait.
        var backlog = false
        while true {
            var n = retryingOnInterrupt { epoll_wait(epollFD, events, capacity, -1) }
            // Coalescing: at a light load every packet would cost a wakeup of this thread (and of
            // the receiver it sends to). Waiting a moment after the first readiness lets packets
            // gather, so that one wakeup and one recvmmsg/sendmmsg serve many. Under backlog the
            // thread never waits.
            if n > 0 && !backlog && coalescing.tv_nsec > 0 && n < capacity / 4 {
                var pause = coalescing
                _ = nanosleep(&pause, nil)
                n = epoll_wait(epollFD, events, capacity, 0)
            }
            backlog = false
            if n < 0 {
                logger.critical("relay worker \(shard.index): epoll_wait failed: \(SystemError("epoll_wait"))")
                return
            }
            let now = clock.monotonicNanoseconds()
            for i in 0..<Int(n) {
                let data = events[i].data.u64
                if data == SessionShard.stopToken { return }
                if data == SessionShard.sharedToken4 || data == SessionShard.sharedToken6, let sharedBatch {
                    let fd = data == SessionShard.sharedToken4 ? shared4 : shared6
                    if forwardShared(fd: fd, now: now, batch: sharedBatch) { backlog = true }
                    continue
                }
                if forward(leg: Int(truncatingIfNeeded: data), now: now, batch: batch) { backlog = true }
            }
        }
    }

    /// Reads one batch from the socket of `leg` and forwards what passes out of the other gate.
    /// One batch per readiness event, so that one flooding socket cannot starve the others
    /// (epoll is level-triggered: what is left is read in the next round).
    /// Returns true when the batch came back full (more is queued).
    @inline(__always)
    private func forward(leg index: Int, now: Int64, batch: PacketBatch) -> Bool {
        shard.withLock { sh in forward(leg: index, in: sh, now: now, batch: batch) }
    }

    @inline(__always)
    private func forward(leg index: Int, in sh: borrowing SessionShard, now: Int64, batch: PacketBatch) -> Bool {
        let rx = sh.legs + index
        let fd = rx.pointee.fd
        if fd < 0 { return false }  // freed after epoll reported it
        let received = Int(ipt_recvmmsg(fd, batch.receiveMessages, UInt32(batch.capacity), dontWait, nil))
        if received <= 0 { return false }
        defer { batch.resetReceived(received) }
        let full = received == batch.capacity

        let tx = sh.legs + (index ^ 2)
        let destination = tx.pointee.destination
        rx.pointee.refill(now: now)
        // RTP legs (stream 0) measure what their client sends; RTCP legs (stream 1) do not.
        let measures = index & 1 == 0
        var out = 0
        for i in 0..<received {
            let message = batch.receiveMessages + i
            let admitted = admits(
                UnsafeRawPointer(batch.buffers + i * batch.bufferSize), length: Int(message.pointee.msg_len),
                truncated: message.pointee.msg_hdr.msg_flags & Int32(MSG_TRUNC) != 0,
                from: PeerAddress(sockaddr: UnsafeRawPointer(batch.receiveNames + i)), leg: index, rx: rx, gate: .none,
                destination: destination, measures: measures, in: sh, now: now)
            guard admitted else { continue }
            batch.sendVectors[out].iov_base = batch.receiveVectors[i].iov_base
            batch.sendVectors[out].iov_len = Int(message.pointee.msg_len)
            out += 1
        }
        if out == 0 { return full }

        let nameLength = destination.write(to: UnsafeMutableRawPointer(batch.sendName))
        var bytes = 0
        for k in 0..<out {
            batch.sendMessages[k].msg_hdr.msg_namelen = nameLength
            bytes += batch.sendVectors[k].iov_len
        }
        let txFD = tx.pointee.fd
        var next = 0
        var failed = 0
        while next < out {
            let sent = Int(ipt_sendmmsg(txFD, batch.sendMessages + next, UInt32(out - next), dontWait))
            if sent > 0 {
                next += sent
            } else {
                // The packet at `next` was refused (buffer full, unreachable): count it, go on.
                bytes -= batch.sendVectors[next].iov_len
                failed += 1
                next += 1
            }
        }
        rx.pointee.dropSendFailed &+= UInt64(failed)
        rx.pointee.packets &+= UInt64(out - failed)
        rx.pointee.bytes &+= UInt64(bytes)
        return full
    }

    /// The checks of one received packet of leg `index` (`rx`), in this order: oversize, STUN
    /// for a side with an ICE-lite agent (answered from `gate` in shared-socket mode, else from the
    /// leg's socket; never forwarded), learning and strict source, reception statistics (RTP
    /// legs), the flood bucket, a destination to send to. Each refusal is counted on `rx`.
    /// Returns true when the packet is to be forwarded.
    @inline(__always)
    func admits(
        _ packet: UnsafeRawPointer, length: Int, truncated: Bool, from source: PeerAddress, leg index: Int,
        rx: UnsafeMutablePointer<StreamLeg>, gate: PeerAddress, destination: PeerAddress, measures: Bool,
        in sh: borrowing SessionShard, now: Int64
    ) -> Bool {
        if truncated {
            rx.pointee.dropOversize &+= 1
            return false
        }
        if rx.pointee.answersICE && STUNMessage.looksLikeSTUN(packet, length: length) {
            // Checks count against the stream's flood bucket like media: each costs an
            // HMAC, so a stranger's flood of STUN-shaped datagrams is capped too.
            if rx.pointee.tokens >= 1 {
                rx.pointee.tokens -= 1
                answerCheck(UnsafeRawBufferPointer(start: packet, count: length), from: source, leg: index, rx: rx, gate: gate, in: sh)
            } else {
                rx.pointee.dropThrottled &+= 1
            }
            return false
        }
        guard rx.pointee.accepts(source, now: now) else {
            rx.pointee.dropUnknownSource &+= 1
            return false
        }
        rx.pointee.lastPacket = now
        if measures {
            rx.pointee.reception.record(packet: packet, length: length, arrival: now)
        }
        guard rx.pointee.tokens >= 1 else {
            rx.pointee.dropThrottled &+= 1
            return false
        }
        rx.pointee.tokens -= 1
        guard destination.isSet else {
            rx.pointee.dropNoDestination &+= 1
            return false
        }
        return true
    }
}
