import CIPTRTPProxy
import Glibc
import IPTRTPProxyPOSIX

/// The memory a forwarding thread receives and sends through in shared-socket mode, allocated
/// once: `capacity` packet buffers with `UDPDatagramHeader.maximumLength` of headroom before each
/// payload (the raw send writes the IP and UDP headers there: no copy), the source address and
/// the control message (the packet's gate address and port) of each received packet, and a send
/// set whose every packet has its own destination, raw socket and leg (one batch serves many
/// streams).
final class SharedPacketBatch {
    /// Packets per recvmmsg/sendmmsg call.
    let capacity: Int
    /// Bytes of payload per packet; a larger datagram is dropped as oversize.
    let payloadSize: Int
    /// Headroom plus payload, per buffer.
    let stride: Int
    static let headroom = 64
    static let controlSize = 64

    let buffers: UnsafeMutableRawPointer
    let receiveVectors: UnsafeMutablePointer<iovec>
    let receiveNames: UnsafeMutablePointer<sockaddr_in6>
    let controls: UnsafeMutableRawPointer
    let receiveMessages: UnsafeMutablePointer<ipt_mmsghdr>
    let sendVectors: UnsafeMutablePointer<iovec>
    let sendNames: UnsafeMutablePointer<sockaddr_in6>
    let sendMessages: UnsafeMutablePointer<ipt_mmsghdr>
    /// Per queued send: the receiving leg (counters), its payload length and its raw socket.
    let sendLegs: UnsafeMutablePointer<Int>
    let sendPayloads: UnsafeMutablePointer<Int>
    let sendSockets: UnsafeMutablePointer<Int32>

    init(capacity: Int = 64, payloadSize: Int = 2048) {
        self.capacity = capacity
        self.payloadSize = payloadSize
        stride = SharedPacketBatch.headroom + payloadSize
        buffers = .allocate(byteCount: capacity * stride, alignment: 64)
        receiveVectors = .allocate(capacity: capacity)
        receiveNames = .allocate(capacity: capacity)
        controls = .allocate(byteCount: capacity * SharedPacketBatch.controlSize, alignment: 16)
        receiveMessages = .allocate(capacity: capacity)
        sendVectors = .allocate(capacity: capacity)
        sendNames = .allocate(capacity: capacity)
        sendMessages = .allocate(capacity: capacity)
        sendLegs = .allocate(capacity: capacity)
        sendPayloads = .allocate(capacity: capacity)
        sendSockets = .allocate(capacity: capacity)
        for i in 0..<capacity {
            receiveVectors[i] = iovec(iov_base: payload(i), iov_len: payloadSize)
            receiveNames[i] = sockaddr_in6()
            sendNames[i] = sockaddr_in6()
            var h = msghdr()
            h.msg_name = UnsafeMutableRawPointer(receiveNames + i)
            h.msg_iov = receiveVectors + i
            h.msg_iovlen = 1
            h.msg_control = controls + i * SharedPacketBatch.controlSize
            receiveMessages[i] = ipt_mmsghdr(msg_hdr: h, msg_len: 0)
            sendVectors[i] = iovec(iov_base: nil, iov_len: 0)
            var s = msghdr()
            s.msg_name = UnsafeMutableRawPointer(sendNames + i)
            s.msg_iov = sendVectors + i
            s.msg_iovlen = 1
            sendMessages[i] = ipt_mmsghdr(msg_hdr: s, msg_len: 0)
        }
        resetReceived(capacity)
    }

    deinit {
        buffers.deallocate()
        receiveVectors.deallocate()
        receiveNames.deallocate()
        controls.deallocate()
        receiveMessages.deallocate()
        sendVectors.deallocate()
        sendNames.deallocate()
        sendMessages.deallocate()
        sendLegs.deallocate()
        sendPayloads.deallocate()
        sendSockets.deallocate()
    }

    /// Where packet `i`'s payload is received (after the headroom).
    @inline(__always)
    func payload(_ i: Int) -> UnsafeMutableRawPointer { buffers + i * stride + SharedPacketBatch.headroom }

    /// Makes the first `count` receive headers ready for the next recvmmsg (the kernel shortens
    /// the name and control lengths to what it wrote).
    @inline(__always)
    func resetReceived(_ count: Int) {
        for i in 0..<count {
            receiveMessages[i].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_in6>.size)
            receiveMessages[i].msg_hdr.msg_controllen = SharedPacketBatch.controlSize
            receiveMessages[i].msg_hdr.msg_flags = 0
        }
    }

    /// The gate address and port packet `i` was sent to, from its IP_ORIGDSTADDR or
    /// IPV6_ORIGDSTADDR control message; `.none` when it has none.
    @inline(__always)
    func destination(_ i: Int) -> PeerAddress {
        let h = receiveMessages[i].msg_hdr
        let control = UnsafeRawPointer(controls + i * SharedPacketBatch.controlSize)
        let length = Int(h.msg_controllen)
        // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } then the data,
        // aligned to size_t.
        let headerSize = MemoryLayout<Int>.size + 8
        var offset = 0
        while offset + headerSize <= length {
            let cmsgLength = control.loadUnaligned(fromByteOffset: offset, as: Int.self)
            let level = control.loadUnaligned(fromByteOffset: offset + MemoryLayout<Int>.size, as: Int32.self)
            let type = control.loadUnaligned(fromByteOffset: offset + MemoryLayout<Int>.size + 4, as: Int32.self)
            if cmsgLength < headerSize { break }
            if (level == Int32(IPPROTO_IP) && type == ShardSockets.ipOriginalDestination)
                || (level == Int32(IPPROTO_IPV6) && type == ShardSockets.ipv6OriginalDestination)
            {
                return PeerAddress(sockaddr: control + offset + headerSize)
            }
            offset += (cmsgLength + MemoryLayout<Int>.size - 1) & ~(MemoryLayout<Int>.size - 1)
        }
        return .none
    }
}
