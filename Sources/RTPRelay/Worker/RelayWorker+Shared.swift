import CIPTRTPProxy
import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// Shared-socket mode (`RelayConfiguration.sharedSockets`): the thread reads one batch of many
/// streams from its shard's receive socket of one family, finds each packet's leg by the gate
/// port it was sent to (`GatePortMap`), applies the same checks as the per-port path and sends
/// what passes with one sendmmsg per raw socket, each packet with its own headers and client.
extension RelayWorker {
    /// Reads and forwards one batch from shared receive socket `fd` (holding the shard's lock).
    /// Returns true when the batch came back full (more is queued).
    func forwardShared(fd: Int32, now: Int64, batch: SharedPacketBatch) -> Bool {
        shard.withLock { sh in forwardShared(fd: fd, in: sh, now: now, batch: batch) }
    }

    @inline(__always)
    private func forwardShared(fd: Int32, in sh: borrowing SessionShard, now: Int64, batch: SharedPacketBatch) -> Bool {
        guard let ports, let sockets = sh.shared else { return false }
        let received = Int(ipt_recvmmsg(fd, batch.receiveMessages, UInt32(batch.capacity), dontWait, nil))
        if received <= 0 { return false }
        defer { batch.resetReceived(received) }
        var out = 0
        for i in 0..<received {
            let gate = batch.destination(i)
            guard let (range, offset) = ports.range(of: gate) else { continue }
            let (global, side, stream) = ports.leg(range: range, offset: offset)
            // The steering sends a session's ports to its own thread; a packet of another shard
            // (steering changed under a running relay) or of a free session is not ours.
            guard global % shardCount == shard.index else { continue }
            let local = global / shardCount
            guard local < sh.count else { continue }
            let index = SessionShard.leg(local: local, side: side, stream: stream)
            let rx = sh.legs + index
            guard rx.pointee.fd == StreamLeg.sharedSocket else { continue }
            let tx = sh.legs + (index ^ 2)
            let destination = tx.pointee.destination
            rx.pointee.refill(now: now)
            let message = batch.receiveMessages + i
            let length = Int(message.pointee.msg_len)
            let payload = batch.payload(i)
            let admitted = admits(
                UnsafeRawPointer(payload), length: length, truncated: message.pointee.msg_hdr.msg_flags & Int32(MSG_TRUNC) != 0,
                from: PeerAddress(sockaddr: UnsafeRawPointer(batch.receiveNames + i)), leg: index, rx: rx, gate: gate,
                destination: destination, measures: stream == 0, in: sh, now: now)
            guard admitted else { continue }
            let source = ports.gate(range: range ^ 1, offset: offset)
            let header = UDPDatagramHeader.write(from: source, to: destination, payload: payload, length: length)
            let raw = sockets.raw(for: destination)
            guard header > 0, raw >= 0 else {
                rx.pointee.dropSendFailed &+= 1
                continue
            }
            batch.sendVectors[out].iov_base = payload - header
            batch.sendVectors[out].iov_len = header + length
            var target = destination
            target.port = 0  // a raw socket's address names the host only
            batch.sendMessages[out].msg_hdr.msg_namelen = target.write(to: UnsafeMutableRawPointer(batch.sendNames + out))
            batch.sendLegs[out] = index
            batch.sendPayloads[out] = length
            batch.sendSockets[out] = raw
            out += 1
        }
        send(out, from: batch, in: sh)
        return received == batch.capacity
    }

    /// Sends the `count` queued packets, one sendmmsg per run of the same raw socket, and counts
    /// each on its receiving leg (forwarded, or refused by the kernel).
    @inline(__always)
    private func send(_ count: Int, from batch: SharedPacketBatch, in sh: borrowing SessionShard) {
        var next = 0
        while next < count {
            let raw = batch.sendSockets[next]
            var end = next + 1
            while end < count && batch.sendSockets[end] == raw { end += 1 }
            while next < end {
                let sent = Int(ipt_sendmmsg(raw, batch.sendMessages + next, UInt32(end - next), dontWait))
                let done = sent > 0 ? sent : 1
                for k in next..<(next + done) {
                    let rx = sh.legs + batch.sendLegs[k]
                    if sent > 0 {
                        rx.pointee.packets &+= 1
                        rx.pointee.bytes &+= UInt64(batch.sendPayloads[k])
                    } else {
                        // The packet at `next` was refused (buffer full, unreachable): count it, go on.
                        rx.pointee.dropSendFailed &+= 1
                    }
                }
                next += done
            }
        }
    }
}
