import Glibc
import CIPTRTPProxyNFT

/// The kernel's answers to one nf_tables transaction (batch), counted until it is settled.
///
/// Every object message of the batch asks for an acknowledgement (NLM_F_ACK), so the kernel
/// answers each with an NLMSG_ERROR carrying 0 or the errno it refused it with; the transaction
/// applied only when all of them are 0. An error for BATCH_BEGIN's own sequence number is the
/// batch failing as a whole (e.g. EPERM): then no per-message answers follow.
struct BatchAcknowledgements {
    /// The socket's port: answers to another socket are not ours.
    let portID: UInt32
    /// BATCH_BEGIN's sequence number; the object messages follow it, one number each.
    let beginSequence: UInt32
    /// Object messages in the batch, each of which is acknowledged.
    let expected: UInt32

    /// Acknowledgements read so far.
    private(set) var acknowledged: UInt32 = 0
    /// The first error of an object message (a negative errno, as the kernel sends it), 0 if none.
    private(set) var firstError: Int32 = 0
    /// The error of the batch as a whole, once the kernel refused BATCH_BEGIN.
    private(set) var batchError: Int32?

    init(portID: UInt32, beginSequence: UInt32, expected: UInt32) {
        self.portID = portID
        self.beginSequence = beginSequence
        self.expected = expected
    }

    /// True when nothing more is to be waited for: every message answered, or the batch refused.
    var isSettled: Bool { batchError != nil || acknowledged >= expected }

    /// Counts `message` if it answers this batch: an NLMSG_ERROR for our port whose sequence number
    /// lies from BATCH_BEGIN's to the last object message's (the distance is taken modulo 2³², so
    /// a batch whose numbers wrap around is still recognised).
    mutating func take(_ message: NetlinkMessage) {
        guard batchError == nil, message.portID == portID,
              message.sequence &- beginSequence <= expected,
              let error = message.error else { return }
        if message.sequence == beginSequence {
            // An acknowledgement of BATCH_BEGIN itself is not a thing the kernel sends: a protocol error.
            batchError = error != 0 ? error : -EPROTO
            return
        }
        acknowledged += 1
        if error != 0 && firstError == 0 { firstError = error }
    }

    /// Counts an error read after the batch was settled, when whatever is still queued on the
    /// socket is taken to belong to the last batch (a late commit error): any NLMSG_ERROR with an
    /// error, whatever its port or sequence number, is the batch's if it had none yet.
    mutating func takeLate(_ message: NetlinkMessage) {
        guard batchError == nil, let error = message.error, error != 0, firstError == 0 else { return }
        firstError = error
    }

    /// The outcome: nil when the kernel applied the batch, else the error (positive errno) of the
    /// batch or of its first refused message.
    var failure: NetlinkError? {
        if let batchError { return NetlinkError(kernel: batchError) }
        return firstError != 0 ? NetlinkError(kernel: firstError) : nil
    }
}
