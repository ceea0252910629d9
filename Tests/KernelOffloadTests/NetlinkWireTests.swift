import Glibc
import CIPTRTPProxyNFT
import Testing
@testable import KernelOffload

/// Reading netlink's wire format: messages back to back in one datagram, attributes in a message.
@Suite("Netlink wire format")
struct NetlinkWireTests {
    typealias B = NetlinkBytes

    @Test("messages are split at their 4-byte aligned lengths; the payload excludes the padding")
    func splitsMessages() {
        let bytes = B.message(type: 0x10, flags: 1, sequence: 7, port: 42, payload: [1, 2, 3])
            + B.message(type: 0x11, sequence: 8, port: 42, payload: [9, 9, 9, 9, 9])
        let messages = NetlinkMessage.split(bytes)
        #expect(messages.map(\.type) == [0x10, 0x11])
        #expect(messages.map(\.sequence) == [7, 8])
        #expect(messages.map(\.portID) == [42, 42])
        #expect(messages.map(\.flags) == [1, 0])
        #expect(messages.map { Array($0.payload) } == [[1, 2, 3], [9, 9, 9, 9, 9]])
    }

    @Test("a message cut off by a short read is dropped, the whole ones before it kept")
    func truncatedMessage() {
        let whole = B.message(type: 0x10, sequence: 1, port: 0, payload: [1, 2, 3, 4])
        let cut = Array(B.message(type: 0x10, sequence: 2, port: 0, payload: [UInt8](repeating: 5, count: 40)).prefix(30))
        #expect(NetlinkMessage.split(whole + cut).map(\.sequence) == [1])
        #expect(NetlinkMessage.split(Array(whole.prefix(10))).isEmpty)
    }

    @Test("a header claiming less than a header is where reading stops")
    func impossibleLength() {
        var bad = B.message(type: 0x10, sequence: 1, port: 0)
        bad[0] = 8
        #expect(NetlinkMessage.split(bad + B.message(type: 0x10, sequence: 2, port: 0)).isEmpty)
    }

    @Test("NLMSG_ERROR carries 0 for an ack or a negative errno; other messages carry none")
    func errorMessages() {
        let messages = NetlinkMessage.split(B.error(0, sequence: 1, port: 5) + B.error(-17, sequence: 2, port: 5)
                                            + B.message(type: 0x10, sequence: 3, port: 5, payload: [0, 0, 0, 0]))
        #expect(messages.map(\.error) == [0, -17, nil])
    }

    @Test("an NLMSG_ERROR too short to hold its error carries none")
    func shortError() {
        let message = NetlinkMessage.split(B.message(type: UInt16(NLMSG_ERROR), sequence: 1, port: 0, payload: [0xff, 0xff]))
        #expect(message.count == 1)
        #expect(message[0].error == nil)
    }

    @Test("attributes: type without the nested flag, value without padding, nested lists read in turn")
    func attributes() {
        let bytes = B.attribute(1, B.string("ab")) + B.nested(3, [B.attribute(1, B.host(UInt32(7))), B.attribute(2, B.network(UInt64(9)))])
        let attributes = NetlinkAttribute.split(bytes[...])
        #expect(attributes.map(\.type) == [1, 3])
        #expect(attributes[0].string == "ab")
        #expect(attributes[1].nested.map(\.type) == [1, 2])
        #expect(attributes[1].nested[0].hostUInt32 == 7)
        #expect(attributes[1].nested[1].bigEndianUInt64 == 9)
    }

    @Test("values of the wrong size read as nil rather than as part of a neighbour")
    func wrongSizes() {
        let attributes = NetlinkAttribute.split((B.attribute(1, [1, 2]) + B.attribute(2, [1, 2, 3, 4]) + B.attribute(3, [65, 66])) [...])
        #expect(attributes[0].hostUInt32 == nil)
        #expect(attributes[1].bigEndianUInt64 == nil)
        #expect(attributes[2].string == nil)
    }

    @Test("an attribute longer than what is left ends the list")
    func overlongAttribute() {
        var bytes = B.attribute(1, [1, 2, 3, 4]) + B.attribute(2, [1, 2, 3, 4])
        bytes[8] = 200
        #expect(NetlinkAttribute.split(bytes[...]).map(\.type) == [1])
    }
}

/// How the replies to a request (a dump, a route lookup) are judged, message by message.
@Suite("Request replies")
struct RequestRepliesTests {
    typealias B = NetlinkBytes
    let replies = RequestReplies(sequence: 100, portID: 42)

    func read(_ bytes: [UInt8]) throws(NetlinkError) -> RequestReplies.Reading {
        try replies.read(NetlinkMessage.split(bytes)[0])
    }

    @Test("a subsystem message is data, NLMSG_DONE ends the reply, NLMSG_NOOP is skipped")
    func kinds() throws {
        #expect(try read(B.message(type: 0x0a0d, sequence: 100, port: 42)) == .data)
        #expect(try read(B.message(type: UInt16(NLMSG_DONE), sequence: 100, port: 42, payload: B.host(Int32(0)))) == .done)
        #expect(try read(B.message(type: UInt16(NLMSG_NOOP), sequence: 100, port: 42)) == .skip)
    }

    @Test("an error reply throws its errno; an ack ends the reply")
    func errors() throws {
        #expect(throws: NetlinkError(ENOENT)) { try read(B.error(-ENOENT, sequence: 100, port: 42)) }
        #expect(try read(B.error(0, sequence: 100, port: 42)) == .done)
        #expect(throws: NetlinkError(EBADMSG)) {
            try read(B.message(type: UInt16(NLMSG_ERROR), sequence: 100, port: 42, payload: [1]))
        }
    }

    @Test("a reply for another socket is ESRCH, for another request EPROTO; port or sequence 0 is not checked")
    func belonging() throws {
        #expect(throws: NetlinkError(ESRCH)) { try read(B.message(type: 0x0a0d, sequence: 100, port: 43)) }
        #expect(throws: NetlinkError(EPROTO)) { try read(B.message(type: 0x0a0d, sequence: 101, port: 42)) }
        #expect(try read(B.message(type: 0x0a0d, sequence: 0, port: 0)) == .data)
    }

    @Test("an interrupted dump is EINTR: its elements may be missing or doubled")
    func interruptedDump() {
        #expect(throws: NetlinkError(EINTR)) {
            try read(B.message(type: 0x0a0d, flags: UInt16(NLM_F_DUMP_INTR), sequence: 100, port: 42))
        }
    }
}
