import CIPTRTPProxyNFT

/// One netlink message as read from a socket: its header and the bytes after it. Parsing copies
/// nothing but the header; the payload is a slice of the bytes received.
struct NetlinkMessage {
    /// The message type: NLMSG_ERROR, NLMSG_DONE, ... or a subsystem's (for nf_tables,
    /// `NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_…`).
    var type: UInt16
    /// NLM_F_… flags.
    var flags: UInt16
    /// The sequence number of the request this answers (or of the message, in a batch).
    var sequence: UInt32
    /// The port of the socket the message is addressed to (0: the kernel sent it unasked).
    var portID: UInt32
    /// Everything after the header, up to the message's own length (not its padding).
    var payload: ArraySlice<UInt8>

    /// Bytes of a header; the kernel's struct is its own aligned length (checked in shim.c).
    static let headerLength = MemoryLayout<nlmsghdr>.size

    /// The messages in `bytes`, in order. Stops at the first one whose length does not fit what is
    /// left, as libmnl's `mnl_nlmsg_ok` does: a truncated read yields the whole messages before it.
    static func split(_ bytes: ArraySlice<UInt8>) -> [NetlinkMessage] {
        var messages: [NetlinkMessage] = []
        var offset = bytes.startIndex
        while bytes.endIndex - offset >= headerLength {
            let header = bytes[offset...].withUnsafeBytes { $0.loadUnaligned(as: nlmsghdr.self) }
            let length = Int(header.nlmsg_len)
            guard length >= headerLength, length <= bytes.endIndex - offset else { break }
            messages.append(NetlinkMessage(type: header.nlmsg_type, flags: header.nlmsg_flags, sequence: header.nlmsg_seq,
                                           portID: header.nlmsg_pid,
                                           payload: bytes[offset + headerLength..<offset + length]))
            offset += Netlink.aligned(length)
        }
        return messages
    }

    /// The messages in `bytes`.
    static func split(_ bytes: [UInt8]) -> [NetlinkMessage] { split(bytes[...]) }

    /// For an NLMSG_ERROR message, the error it carries: 0 for an acknowledgement, else a negative
    /// errno (the kernel's sign). Nil for any other message, or one too short to hold the error.
    var error: Int32? {
        guard type == UInt16(NLMSG_ERROR), payload.count >= MemoryLayout<nlmsgerr>.size else { return nil }
        return payload.withUnsafeBytes { $0.loadUnaligned(as: nlmsgerr.self).error }
    }

    /// The attributes after a fixed header of `length` bytes (nfgenmsg for nf_tables, rtmsg for
    /// routes).
    func attributes(after length: Int) -> [NetlinkAttribute] {
        guard payload.count >= length else { return [] }
        return NetlinkAttribute.split(payload.dropFirst(Netlink.aligned(length)))
    }
}

/// Constants and arithmetic of the netlink wire format.
enum Netlink {
    /// Messages and attributes start on 4-byte boundaries (NLMSG_ALIGNTO, NLA_ALIGNTO).
    static func aligned(_ length: Int) -> Int { (length + Int(NLMSG_ALIGNTO) - 1) & ~(Int(NLMSG_ALIGNTO) - 1) }

    /// The nf_tables subsystem's message type for `message` (NFT_MSG_…).
    static func nftablesType(_ message: nf_tables_msg_types) -> UInt16 {
        UInt16(NFNL_SUBSYS_NFTABLES) << 8 | UInt16(message.rawValue)
    }
}
