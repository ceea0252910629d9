import CIPTRTPProxy
import Glibc
import IPTRTPProxyCore
import Logging

/// One forwarding thread with its own epoll set. It owns the sessions whose global index is
/// congruent to its index modulo the worker count: their four sockets are registered here, and
/// their legs are read and written under this worker's lock, so a session's state is only ever
/// contended by the control path.
final class RelayWorker {
    /// epoll data that means "stop" (the engine's wakeup pipe).
    static let stopToken = UInt64.max

    let index: Int
    let lock = ThreadLock()
    private let table: SessionTable
    private let clock: RelayClock
    private let flood: FloodLimit
    private let coalescing: timespec
    /// A recvmmsg of the last round came back full: packets are queued, do not wait.
    private var backlog = false
    private let batch = PacketBatch()
    private let logger: Logger
    private let epollFD: Int32
    private let dontWait = ipt_msg_dontwait()
    private var thread: PosixThread?

    init(index: Int, table: SessionTable, clock: RelayClock, flood: FloodLimit, coalescingMicroseconds: Int, logger: Logger) throws {
        self.index = index
        coalescing = timespec(tv_sec: 0, tv_nsec: coalescingMicroseconds * 1000)
        self.table = table
        self.clock = clock
        self.flood = flood
        self.logger = logger
        epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SystemError("epoll_create1") }
    }

    deinit {
        close(epollFD)
    }

    /// Adds a relay socket; its events carry `leg`.
    func register(fd: Int32, leg: Int) throws {
        try add(fd: fd, data: UInt64(leg))
    }

    /// Starts the thread; it runs until `stop` becomes readable.
    func start(stop: WakeupPipe) throws {
        try add(fd: stop.readFD, data: RelayWorker.stopToken)
        thread = try PosixThread(name: "ipt-relay-\(index)") { [self] in run() }
    }

    /// Waits for the thread after the stop pipe was signalled.
    func join() {
        thread?.join()
        thread = nil
    }

    private func add(fd: Int32, data: UInt64) throws {
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = data
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else { throw SystemError("epoll_ctl ADD") }
    }

    private func run() {
        let capacity: Int32 = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: Int(capacity))
        defer { events.deallocate() }
        while true {
            var n = epoll_wait(epollFD, events, capacity, -1)
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
                if errno == EINTR { continue }
                logger.critical("relay worker \(index): epoll_wait failed: \(SystemError("epoll_wait"))")
                return
            }
            let now = clock.monotonicNanoseconds()
            for i in 0..<Int(n) {
                let data = events[i].data.u64
                if data == RelayWorker.stopToken { return }
                forward(leg: Int(truncatingIfNeeded: data), now: now)
            }
        }
    }

    /// Reads one batch from the socket of `leg` and forwards what passes out of the other gate.
    /// One batch per readiness event, so that one flooding socket cannot starve the others
    /// (epoll is level-triggered: what is left is read in the next round).
    @inline(__always)
    private func forward(leg index: Int, now: Int64) {
        lock.lock()
        defer { lock.unlock() }
        let rx = table.legs + index
        let fd = rx.pointee.fd
        if fd < 0 { return }  // freed after epoll reported it
        let received = Int(ipt_recvmmsg(fd, batch.receiveMessages, UInt32(batch.capacity), dontWait, nil))
        if received <= 0 { return }
        defer { batch.resetReceived(received) }
        if received == batch.capacity { backlog = true }

        let tx = table.legs + (index ^ 2)
        let destination = tx.pointee.destination
        rx.pointee.refill(now: now, limit: flood)
        var out = 0
        for i in 0..<received {
            let message = batch.receiveMessages + i
            if message.pointee.msg_hdr.msg_flags & Int32(MSG_TRUNC) != 0 {
                rx.pointee.dropOversize &+= 1
                continue
            }
            let source = PeerAddress(sockaddr: UnsafeRawPointer(batch.receiveNames + i))
            guard rx.pointee.accepts(source, now: now) else {
                rx.pointee.dropUnknownSource &+= 1
                continue
            }
            rx.pointee.lastPacket = now
            guard rx.pointee.tokens >= 1 else {
                rx.pointee.dropThrottled &+= 1
                continue
            }
            rx.pointee.tokens -= 1
            guard destination.isSet else {
                rx.pointee.dropNoDestination &+= 1
                continue
            }
            batch.sendVectors[out].iov_base = batch.receiveVectors[i].iov_base
            batch.sendVectors[out].iov_len = Int(message.pointee.msg_len)
            out += 1
        }
        if out == 0 { return }

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
    }
}
