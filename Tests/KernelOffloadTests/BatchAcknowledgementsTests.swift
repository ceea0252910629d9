import CIPTRTPProxyNFT
import Glibc
import Testing
@testable import KernelOffload

/// Counting the kernel's answers to a transaction: BATCH_BEGIN numbered 1000, three object messages
/// 1001-1003 (each acknowledged), BATCH_END 1004 (never answered), on port 42.
@Suite("Batch acknowledgements")
struct BatchAcknowledgementsTests {
    typealias B = NetlinkBytes

    func acks(_ begin: UInt32 = 1000) -> BatchAcknowledgements {
        BatchAcknowledgements(portID: 42, beginSequence: begin, expected: 3)
    }

    func feed(_ acks: inout BatchAcknowledgements, _ bytes: [UInt8]) {
        for message in NetlinkMessage.split(bytes) { acks.take(message) }
    }

    @Test("three zero acks settle the batch as applied")
    func allApplied() {
        var a = acks()
        feed(&a, B.error(0, sequence: 1001, port: 42) + B.error(0, sequence: 1002, port: 42))
        #expect(!a.isSettled)
        feed(&a, B.error(0, sequence: 1003, port: 42))
        #expect(a.isSettled)
        #expect(a.failure == nil)
    }

    @Test("the first refused message's errno is the batch's, once every message is answered")
    func firstErrorWins() {
        var a = acks()
        feed(&a, B.error(0, sequence: 1001, port: 42) + B.error(-EEXIST, sequence: 1002, port: 42))
        #expect(!a.isSettled)
        feed(&a, B.error(-ENOENT, sequence: 1003, port: 42))
        #expect(a.isSettled)
        #expect(a.failure == NetlinkError(EEXIST))
    }

    @Test("an error for BATCH_BEGIN settles the batch at once, and what follows is not counted")
    func batchRefused() {
        var a = acks()
        feed(&a, B.error(-EPERM, sequence: 1000, port: 42))
        #expect(a.isSettled)
        #expect(a.failure == NetlinkError(EPERM))
        feed(&a, B.error(-EEXIST, sequence: 1001, port: 42))
        #expect(a.failure == NetlinkError(EPERM))
        #expect(a.acknowledged == 0)
    }

    @Test("a zero ack for BATCH_BEGIN is a protocol error")
    func beginAcknowledged() {
        var a = acks()
        feed(&a, B.error(0, sequence: 1000, port: 42))
        #expect(a.failure == NetlinkError(EPROTO))
    }

    @Test("answers for another port, outside the batch's numbers, or not NLMSG_ERROR are not ours")
    func strangersIgnored() {
        var a = acks()
        feed(&a, B.error(-EEXIST, sequence: 1001, port: 43)
             + B.error(-EEXIST, sequence: 999, port: 42)
             + B.error(-EEXIST, sequence: 1004, port: 42)
             + B.message(type: 0x0a10, sequence: 1002, port: 42, payload: B.host(Int32(-EEXIST))))
        #expect(a.acknowledged == 0)
        #expect(a.failure == nil)
    }

    @Test("a batch whose sequence numbers wrap past 2³² is still recognised")
    func wrapAround() {
        var a = acks(UInt32.max - 1)
        feed(&a, B.error(0, sequence: UInt32.max, port: 42) + B.error(0, sequence: 0, port: 42)
             + B.error(-ENOENT, sequence: 1, port: 42))
        #expect(a.isSettled)
        #expect(a.failure == NetlinkError(ENOENT))
    }

    @Test("a late error read after the acks is the batch's when it had none, whatever its numbers")
    func lateError() {
        var a = acks()
        feed(&a, B.error(0, sequence: 1001, port: 42) + B.error(0, sequence: 1002, port: 42) + B.error(0, sequence: 1003, port: 42))
        for m in NetlinkMessage.split(B.error(0, sequence: 7, port: 0) + B.error(-ENOMEM, sequence: 7, port: 0)) { a.takeLate(m) }
        #expect(a.failure == NetlinkError(ENOMEM))
    }

    @Test("a late error does not replace the first refusal")
    func lateErrorAfterRefusal() {
        var a = acks()
        feed(&a, B.error(-EEXIST, sequence: 1001, port: 42) + B.error(0, sequence: 1002, port: 42) + B.error(0, sequence: 1003, port: 42))
        for m in NetlinkMessage.split(B.error(-ENOMEM, sequence: 7, port: 0)) { a.takeLate(m) }
        #expect(a.failure == NetlinkError(EEXIST))
    }
}
