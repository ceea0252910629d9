import CIPTRTPProxyNFT
import Glibc
import Testing
@testable import KernelOffload

/// Reading a GETSETELEM dump: each element's key and counter, from NEWSETELEM messages built here
/// byte by byte as the kernel writes them.
@Suite("Set element counters")
struct SetElementCountersTests {
    typealias B = NetlinkBytes

    /// A counter expression as the kernel dumps it (bytes first, then packets, 64-bit big-endian).
    func counter(packets: UInt64, bytes: UInt64) -> [[UInt8]] {
        [B.attribute(B.nft(NFTA_EXPR_NAME), B.string("counter")),
         B.nested(B.nft(NFTA_EXPR_DATA), [B.attribute(B.nft(NFTA_COUNTER_BYTES), B.network(bytes)),
                                         B.attribute(B.nft(NFTA_COUNTER_PACKETS), B.network(packets))])]
    }

    func key(_ bytes: [UInt8]) -> [UInt8] {
        B.nested(B.nft(NFTA_SET_ELEM_KEY), [B.attribute(B.nft(NFTA_DATA_VALUE), bytes)])
    }

    /// A NEWSETELEM message of the dump holding `elements` (each a list of element attributes).
    func dumpMessage(_ elements: [[[UInt8]]]) -> NetlinkMessage {
        let payload = [UInt8(IPT_NFT_FAMILY_NETDEV), 0, 0, 0]
            + B.attribute(B.nft(NFTA_SET_ELEM_LIST_TABLE), B.string("iptrtpproxy"))
            + B.attribute(B.nft(NFTA_SET_ELEM_LIST_SET), B.string("arrival"))
            + B.nested(B.nft(NFTA_SET_ELEM_LIST_ELEMENTS), elements.map { B.nested(B.nft(NFTA_LIST_ELEM), $0) })
        return NetlinkMessage.split(B.message(type: Netlink.nftablesType(NFT_MSG_NEWSETELEM), sequence: 9, port: 42,
                                              payload: payload))[0]
    }

    @Test("each element's key and its counter (one expression: NFTA_SET_ELEM_EXPR)")
    func singleExpression() throws {
        let m = dumpMessage([
            [key([192, 0, 2, 10, 0x75, 0x30, 0, 0]), B.nested(B.nft(NFTA_SET_ELEM_EXPR), counter(packets: 20, bytes: 4000))],
            [key([192, 0, 2, 10, 0x75, 0x32, 0, 0]), B.nested(B.nft(NFTA_SET_ELEM_EXPR), counter(packets: 1 << 40, bytes: 3))],
        ])
        #expect(try SetElementCounters.elements(in: m) == [
            SetElementCounter(key: [192, 0, 2, 10, 0x75, 0x30, 0, 0], packets: 20, bytes: 4000),
            SetElementCounter(key: [192, 0, 2, 10, 0x75, 0x32, 0, 0], packets: 1 << 40, bytes: 3),
        ])
    }

    @Test("the counter among several expressions (NFTA_SET_ELEM_EXPRESSIONS)")
    func severalExpressions() throws {
        let limit = [B.attribute(B.nft(NFTA_EXPR_NAME), B.string("limit")),
                     B.nested(B.nft(NFTA_EXPR_DATA), [B.attribute(1, B.network(UInt64(99)))])]
        let m = dumpMessage([[key([1, 2, 3, 4]), B.nested(B.nft(NFTA_SET_ELEM_EXPRESSIONS), [
            B.nested(B.nft(NFTA_LIST_ELEM), limit), B.nested(B.nft(NFTA_LIST_ELEM), counter(packets: 7, bytes: 700)),
        ])]])
        #expect(try SetElementCounters.elements(in: m) == [SetElementCounter(key: [1, 2, 3, 4], packets: 7, bytes: 700)])
    }

    @Test("an element without a counter counts zero; other element attributes are passed over")
    func noCounter() throws {
        let m = dumpMessage([[key([1, 2, 3, 4]), B.nested(B.nft(NFTA_SET_ELEM_DATA), [B.attribute(1, [9, 9, 9, 9])])]])
        #expect(try SetElementCounters.elements(in: m) == [SetElementCounter(key: [1, 2, 3, 4], packets: 0, bytes: 0)])
    }

    @Test("a message without elements holds none")
    func empty() throws {
        #expect(try SetElementCounters.elements(in: dumpMessage([])).isEmpty)
    }

    @Test("a counter value that is not 64 bits, or a message without its nfgenmsg, is EPROTO")
    func malformed() {
        let bad = [B.attribute(B.nft(NFTA_EXPR_NAME), B.string("counter")),
                   B.nested(B.nft(NFTA_EXPR_DATA), [B.attribute(B.nft(NFTA_COUNTER_PACKETS), [0, 0, 0, 1])])]
        #expect(throws: NetlinkError(EPROTO)) {
            try SetElementCounters.elements(in: dumpMessage([[key([1]), B.nested(B.nft(NFTA_SET_ELEM_EXPR), bad)]]))
        }
        let short = NetlinkMessage.split(B.message(type: Netlink.nftablesType(NFT_MSG_NEWSETELEM), sequence: 9, port: 42,
                                                   payload: [5, 0]))[0]
        #expect(throws: NetlinkError(EPROTO)) { try SetElementCounters.elements(in: short) }
    }

    @Test("what libnftnl writes for an element with a counter reads back the same")
    func libnftnlRoundTrip() throws {
        // libnftnl is an independent writer of the kernel's layout: an element with a counter
        // expression, written as NEWSETELEM.
        let s = try #require(nftnl_set_alloc())
        defer { nftnl_set_free(s) }
        nftnl_set_set_str(s, UInt16(NFTNL_SET_TABLE.rawValue), "iptrtpproxy")
        nftnl_set_set_str(s, UInt16(NFTNL_SET_NAME.rawValue), "arrival")
        let e = try #require(nftnl_set_elem_alloc())
        let keyBytes: [UInt8] = [192, 0, 2, 10, 0x75, 0x30, 0, 0, 203, 0, 113, 2, 0x0f, 0xa0, 0, 0]
        keyBytes.withUnsafeBytes { _ = nftnl_set_elem_set(e, UInt16(NFTNL_SET_ELEM_KEY), $0.baseAddress, 16) }
        let c = try #require(nftnl_expr_alloc("counter"))
        nftnl_expr_set_u64(c, UInt16(NFTNL_EXPR_CTR_PACKETS), 123)
        nftnl_expr_set_u64(c, UInt16(NFTNL_EXPR_CTR_BYTES), 45678)
        nftnl_set_elem_add_expr(e, c)
        nftnl_set_elem_add(s, e)
        var bytes = [UInt8](repeating: 0, count: 4096)
        let length = bytes.withUnsafeMutableBytes { buffer in
            let h = nftnl_nlmsg_build_hdr(buffer.baseAddress!.assumingMemoryBound(to: CChar.self),
                                          UInt16(NFT_MSG_NEWSETELEM.rawValue), UInt16(IPT_NFT_FAMILY_NETDEV), 0, 9)!
            nftnl_set_elems_nlmsg_build_payload(h, s)
            return Int(h.pointee.nlmsg_len)
        }
        let m = NetlinkMessage.split(Array(bytes[..<length]))[0]
        #expect(try SetElementCounters.elements(in: m) == [SetElementCounter(key: keyBytes, packets: 123, bytes: 45678)])
    }

    @Test("the dump request names the table and the set, and asks a dump")
    func request() throws {
        let bytes = try SetElementCounters.request(family: UInt16(IPT_NFT_FAMILY_NETDEV), table: "iptrtpproxy", set: "arrival", sequence: 77)
        let m = try #require(NetlinkMessage.split(bytes).first)
        #expect(m.type == Netlink.nftablesType(NFT_MSG_GETSETELEM))
        #expect(m.sequence == 77)
        #expect(m.flags & UInt16(NLM_F_DUMP | NLM_F_REQUEST) == UInt16(NLM_F_DUMP | NLM_F_REQUEST))
        let a = m.attributes(after: MemoryLayout<nfgenmsg>.size)
        #expect(a.first(NFTA_SET_ELEM_LIST_TABLE)?.string == "iptrtpproxy")
        #expect(a.first(NFTA_SET_ELEM_LIST_SET)?.string == "arrival")
    }
}
