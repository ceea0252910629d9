import Glibc
import CIPTRTPProxyNFT

/// How the replies to one request (a dump, or a get) are read, message by message: libmnl's
/// `mnl_cb_run` rules, so that the kernel's answers mean what they meant when C read them.
///
/// A reply must come from the request's port and carry its sequence number (either side 0 means
/// "not checked"); a dump the kernel had to restart (NLM_F_DUMP_INTR) is an error, since its
/// elements may be missing or doubled.
struct RequestReplies {
    /// The request's sequence number.
    let sequence: UInt32
    /// The socket's port.
    let portID: UInt32

    /// What one message of the reply says.
    enum Reading: Equatable {
        /// Data for the caller (a message type of the subsystem).
        case data
        /// The reply is complete: NLMSG_DONE, or an NLMSG_ERROR acknowledging success. Messages
        /// after it in the same read are not looked at.
        case done
        /// Nothing for the caller (NLMSG_NOOP, NLMSG_OVERRUN).
        case skip
    }

    /// Reads `message`; throws the error it reports, or ESRCH / EPROTO when it belongs to another
    /// socket or request, EINTR when the dump was interrupted, EBADMSG for a truncated error.
    func read(_ message: NetlinkMessage) throws(NetlinkError) -> Reading {
        if message.portID != 0 && portID != 0 && message.portID != portID { throw NetlinkError(ESRCH) }
        if message.sequence != 0 && sequence != 0 && message.sequence != sequence { throw NetlinkError(EPROTO) }
        if message.flags & UInt16(NLM_F_DUMP_INTR) != 0 { throw NetlinkError(EINTR) }
        if message.type >= UInt16(NLMSG_MIN_TYPE) { return .data }
        switch Int32(message.type) {
        case NLMSG_ERROR:
            guard let error = message.error else { throw NetlinkError(EBADMSG) }
            if error != 0 { throw NetlinkError(kernel: error) }
            return .done
        case NLMSG_DONE:
            return .done
        default:
            return .skip
        }
    }
}
