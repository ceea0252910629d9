import CIPTRTPProxyNFT

/// An nf_tables transaction being written: BATCH_BEGIN, the object messages, BATCH_END, back to
/// back in one buffer, to be sent in one datagram and applied by the kernel all or nothing.
///
/// libnftnl writes each message into room the batch makes for it; the batch numbers the messages
/// one after the other from `beginSequence` and asks an ack for each object message, so that
/// `BatchAcknowledgements` can tell when the kernel answered all of them.
struct NetlinkBatch {
    /// The tables' family (NFPROTO_NETDEV, ...).
    let family: UInt16
    /// BATCH_BEGIN's sequence number.
    let beginSequence: UInt32
    /// The number the next message gets.
    private(set) var nextSequence: UInt32
    /// Object messages so far (BATCH_BEGIN and BATCH_END not counted): each is acknowledged.
    private(set) var messageCount: UInt32 = 0
    /// The messages written so far, each padded to 4 bytes.
    private(set) var bytes: [UInt8] = []

    /// Bytes a table, chain, set or rule message may take (a rule with a dozen expressions is ~1 KiB).
    static let objectMessageRoom = 8192

    /// Starts a batch whose BATCH_BEGIN is numbered `firstSequence`.
    init(family: UInt16, firstSequence: UInt32) {
        self.family = family
        beginSequence = firstSequence
        nextSequence = firstSequence &+ 1
        bytes.reserveCapacity(16384)
        write(room: NetlinkMessage.headerLength + 64) { nftnl_batch_begin($0, firstSequence) }
    }

    /// Appends an object message of `type` (NFT_MSG_…) with `flags` and an ack request: libnftnl
    /// writes the header, `payload` the attributes. `room` bounds what the message may take: it
    /// writes into it unchecked, as C would.
    mutating func append(_ type: nf_tables_msg_types, flags: Int32 = 0, room: Int = objectMessageRoom,
                         payload: (UnsafeMutablePointer<nlmsghdr>) -> Void) {
        let sequence = nextSequence, family = family
        write(room: room) { at in
            let header = nftnl_nlmsg_build_hdr(at, UInt16(type.rawValue), family, UInt16(flags | NLM_F_ACK), sequence)!
            payload(header)
            return header
        }
        nextSequence &+= 1
        messageCount += 1
    }

    /// The batch with BATCH_END appended: what is sent. BATCH_END takes a sequence number too.
    mutating func close() -> [UInt8] {
        let sequence = nextSequence
        write(room: NetlinkMessage.headerLength + 64) { nftnl_batch_end($0, sequence) }
        nextSequence &+= 1
        return bytes
    }

    /// Makes `room` zeroed bytes at the end, lets `build` write a message there, and keeps the
    /// message's length, padded to 4.
    private mutating func write(room: Int, _ build: (UnsafeMutablePointer<CChar>) -> UnsafeMutablePointer<nlmsghdr>) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: room))
        let length = bytes.withUnsafeMutableBytes { buffer in
            Int(build((buffer.baseAddress! + start).assumingMemoryBound(to: CChar.self)).pointee.nlmsg_len)
        }
        precondition(Netlink.aligned(length) <= room, "a netlink message outgrew the room made for it")
        bytes.removeLast(room - Netlink.aligned(length))
    }
}
