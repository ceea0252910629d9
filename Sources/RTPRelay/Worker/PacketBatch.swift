import CIPTRTPProxy
import Glibc

/// The memory one worker receives and sends through, allocated once: `capacity` packet buffers,
/// their iovecs and source addresses for recvmmsg, and a second set of headers for sendmmsg that
/// point into the same buffers (a packet is forwarded without being copied).
final class PacketBatch {
    /// Packets per recvmmsg/sendmmsg call.
    let capacity: Int
    /// Bytes per packet buffer; a larger datagram is dropped as oversize.
    let bufferSize: Int

    let buffers: UnsafeMutableRawPointer
    let receiveVectors: UnsafeMutablePointer<iovec>
    let receiveNames: UnsafeMutablePointer<sockaddr_in6>
    let receiveMessages: UnsafeMutablePointer<ipt_mmsghdr>
    let sendVectors: UnsafeMutablePointer<iovec>
    let sendMessages: UnsafeMutablePointer<ipt_mmsghdr>
    /// The one destination of a send batch (every packet of a batch goes to the same client).
    let sendName: UnsafeMutablePointer<sockaddr_in6>

    init(capacity: Int = 64, bufferSize: Int = 2048) {
        self.capacity = capacity
        self.bufferSize = bufferSize
        buffers = .allocate(byteCount: capacity * bufferSize, alignment: 64)
        receiveVectors = .allocate(capacity: capacity)
        receiveNames = .allocate(capacity: capacity)
        receiveMessages = .allocate(capacity: capacity)
        sendVectors = .allocate(capacity: capacity)
        sendMessages = .allocate(capacity: capacity)
        sendName = .allocate(capacity: 1)
        sendName.initialize(to: sockaddr_in6())
        for i in 0..<capacity {
            receiveVectors[i] = iovec(iov_base: buffers + i * bufferSize, iov_len: bufferSize)
            receiveNames[i] = sockaddr_in6()
            var h = msghdr()
            h.msg_name = UnsafeMutableRawPointer(receiveNames + i)
            h.msg_namelen = socklen_t(MemoryLayout<sockaddr_in6>.size)
            h.msg_iov = receiveVectors + i
            h.msg_iovlen = 1
            receiveMessages[i] = ipt_mmsghdr(msg_hdr: h, msg_len: 0)

            sendVectors[i] = iovec(iov_base: buffers + i * bufferSize, iov_len: 0)
            var s = msghdr()
            s.msg_name = UnsafeMutableRawPointer(sendName)
            s.msg_iov = sendVectors + i
            s.msg_iovlen = 1
            sendMessages[i] = ipt_mmsghdr(msg_hdr: s, msg_len: 0)
        }
    }

    deinit {
        buffers.deallocate()
        receiveVectors.deallocate()
        receiveNames.deallocate()
        receiveMessages.deallocate()
        sendVectors.deallocate()
        sendMessages.deallocate()
        sendName.deallocate()
    }

    /// Makes the first `count` receive headers ready for the next recvmmsg (the kernel shortens
    /// `msg_namelen` to the address it wrote).
    @inline(__always)
    func resetReceived(_ count: Int) {
        for i in 0..<count {
            receiveMessages[i].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_in6>.size)
            receiveMessages[i].msg_hdr.msg_flags = 0
        }
    }
}
