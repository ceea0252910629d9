import CIPTRTPProxyNFT
import Glibc
import IPTRTPProxyCore
import Testing
@testable import KernelOffload

/// What the offload sends the kernel, read back from the bytes of a batch: the framing of a
/// transaction, and each nf_tables object the offload table is made of.
@Suite("Netlink batch")
struct NetlinkBatchTests {
    typealias B = NetlinkBytes
    static let netdev = UInt16(IPT_NFT_FAMILY_NETDEV)

    /// The attributes of an nf_tables message (after its nfgenmsg).
    func attributes(_ m: NetlinkMessage) -> [NetlinkAttribute] { m.attributes(after: MemoryLayout<nfgenmsg>.size) }

    /// The big-endian 32-bit value nf_tables puts in a u32 attribute.
    func be32(_ a: NetlinkAttribute?) -> UInt32? {
        guard let a, a.payload.count == 4 else { return nil }
        return a.payload.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// The single object message of a batch that `build` writes.
    func only(_ build: (inout NetlinkBatch) throws -> Void) throws -> NetlinkMessage {
        var batch = NetlinkBatch(family: Self.netdev, firstSequence: 1)
        try build(&batch)
        let messages = NetlinkMessage.split(batch.close())
        try #require(messages.count == 3)
        return messages[1]
    }

    @Test("BATCH_BEGIN, the object messages numbered after it, each asking an ack, then BATCH_END")
    func framing() throws {
        var batch = NetlinkBatch(family: Self.netdev, firstSequence: 500)
        try batch.addTable("t")
        try batch.deleteTable("t")
        #expect(batch.messageCount == 2)
        let messages = NetlinkMessage.split(batch.close())
        #expect(messages.map(\.type) == [UInt16(NFNL_MSG_BATCH_BEGIN), Netlink.nftablesType(NFT_MSG_NEWTABLE),
                                         Netlink.nftablesType(NFT_MSG_DELTABLE), UInt16(NFNL_MSG_BATCH_END)])
        #expect(messages.map(\.sequence) == [500, 501, 502, 503])
        #expect(batch.nextSequence == 504)
        for m in messages[1...2] {
            #expect(m.flags & UInt16(NLM_F_REQUEST | NLM_F_ACK) == UInt16(NLM_F_REQUEST | NLM_F_ACK))
            #expect(m.payload.first == UInt8(Self.netdev))
            #expect(attributes(m).first(NFTA_TABLE_NAME)?.string == "t")
        }
        #expect(messages[1].flags & UInt16(NLM_F_CREATE) != 0)
        #expect(messages[2].flags & UInt16(NLM_F_CREATE) == 0)
    }

    @Test("a batch grows past its first buffer without losing a message")
    func manyMessages() throws {
        var batch = NetlinkBatch(family: Self.netdev, firstSequence: 1)
        for i in 0..<100 { try batch.addTable("table\(i)") }
        let messages = NetlinkMessage.split(batch.close())
        #expect(messages.count == 102)
        #expect(messages.dropFirst().dropLast().map { attributes($0).first(NFTA_TABLE_NAME)?.string } == (0..<100).map { "table\($0)" })
    }

    @Test("the map: concatenated key and data types and lengths, a map, a counter on every element")
    func map() throws {
        let m = try only { try $0.addMap("t", .arrival) }
        let a = attributes(m)
        #expect(m.type == Netlink.nftablesType(NFT_MSG_NEWSET))
        #expect(a.first(NFTA_SET_TABLE)?.string == "t")
        #expect(a.first(NFTA_SET_NAME)?.string == "arrival")
        #expect(be32(a.first(NFTA_SET_ID)) == 1)
        #expect(be32(a.first(NFTA_SET_KEY_TYPE)) == OffloadMap.arrival.keyType)
        #expect(be32(a.first(NFTA_SET_KEY_LEN)) == 16)
        #expect(be32(a.first(NFTA_SET_DATA_TYPE)) == OffloadMap.arrival.dataType)
        #expect(be32(a.first(NFTA_SET_DATA_LEN)) == 20)
        #expect(be32(a.first(NFTA_SET_FLAGS)) == NFT_SET_MAP.rawValue)
        let expression = a.first(NFTA_SET_EXPR) ?? a.first(NFTA_SET_EXPRESSIONS)?.nested.first
        #expect(expression?.nested.first(NFTA_EXPR_NAME)?.string == "counter")
    }

    @Test("the ingress chain: filter type, ingress hook on every interface, priority 0, policy accept")
    func ingressChain() throws {
        let m = try only { try $0.addIngressChain("t", "in", priority: 0, interfaces: ["eth0", "eth1"]) }
        let a = attributes(m)
        #expect(a.first(NFTA_CHAIN_NAME)?.string == "in")
        #expect(a.first(NFTA_CHAIN_TYPE)?.string == "filter")
        #expect(be32(a.first(NFTA_CHAIN_POLICY)) == UInt32(IPT_NFT_ACCEPT))
        let hook = a.first(NFTA_CHAIN_HOOK)?.nested ?? []
        #expect(be32(hook.first(NFTA_HOOK_HOOKNUM)) == UInt32(IPT_NFT_NETDEV_INGRESS))
        #expect(be32(hook.first(NFTA_HOOK_PRIORITY)) == 0)
        #expect(hook.first(NFTA_HOOK_DEVS)?.nested.map(\.string) == ["eth0", "eth1"])
    }

    @Test("a chain on no interface is EINVAL and writes nothing")
    func chainWithoutInterface() {
        var batch = NetlinkBatch(family: Self.netdev, firstSequence: 1)
        #expect(throws: NetlinkError(EINVAL)) { try batch.addIngressChain("t", "in", priority: 0, interfaces: []) }
        #expect(batch.messageCount == 0)
    }

    @Test("the arrival rule, expression by expression: check, load the 4-tuple, look up, rewrite, forward")
    func arrivalRule() throws {
        let m = try only { try $0.addRule("t", "in", OffloadRuleset.arrivalRule()) }
        #expect(m.type == Netlink.nftablesType(NFT_MSG_NEWRULE))
        #expect(m.flags & UInt16(NLM_F_APPEND | NLM_F_CREATE) == UInt16(NLM_F_APPEND | NLM_F_CREATE))
        let a = attributes(m)
        #expect(a.first(NFTA_RULE_TABLE)?.string == "t")
        #expect(a.first(NFTA_RULE_CHAIN)?.string == "in")
        let expressions = (a.first(NFTA_RULE_EXPRESSIONS)?.nested ?? []).map(\.nested)
        #expect(expressions.map { $0.first(NFTA_EXPR_NAME)?.string } == [
            "meta", "payload", "bitwise", "cmp",
            "payload", "payload", "payload", "payload",
            "lookup", "payload", "payload", "fwd",
        ])
        let lookup = expressions[8].first(NFTA_EXPR_DATA)?.nested ?? []
        #expect(lookup.first(NFTA_LOOKUP_SET)?.string == "arrival")
        #expect(be32(lookup.first(NFTA_LOOKUP_SET_ID)) == 1)
    }

    /// The caller and callee of StreamElementsTests: one stream, two arrival elements.
    var elements: ElementList {
        get throws {
            func ep(_ a: String, _ p: UInt16) -> Endpoint { Endpoint(address: IPAddress(a)!, port: p) }
            var e = StreamElements()
            try e.addInstall(KernelStream(a: KernelLeg(relay: ep("192.0.2.10", 30000), peer: ep("203.0.113.2", 4000)),
                                          b: KernelLeg(relay: ep("198.51.100.10", 40000), peer: ep("198.51.100.2", 6000))),
                             routes: (KernelRoute(interface: 2, nextHop: IPAddress("203.0.113.2")!),
                                      KernelRoute(interface: 3, nextHop: IPAddress("198.51.100.1")!)))
            return e.list(.arrival)
        }
    }

    /// Each element's (key, data) in an element message.
    func keysAndData(_ m: NetlinkMessage) -> [(key: [UInt8], data: [UInt8]?)] {
        (attributes(m).first(NFTA_SET_ELEM_LIST_ELEMENTS)?.nested ?? []).map { element in
            let e = element.nested
            return (e.first(NFTA_SET_ELEM_KEY)?.nested.first(NFTA_DATA_VALUE).map { Array($0.payload) } ?? [],
                    e.first(NFTA_SET_ELEM_DATA)?.nested.first(NFTA_DATA_VALUE).map { Array($0.payload) })
        }
    }

    @Test("adding elements sends every key with its data, in the list's order")
    func addElements() throws {
        let list = try elements
        let m = try only { try $0.addElements("t", list) }
        #expect(m.type == Netlink.nftablesType(NFT_MSG_NEWSETELEM))
        #expect(attributes(m).first(NFTA_SET_ELEM_LIST_TABLE)?.string == "t")
        #expect(attributes(m).first(NFTA_SET_ELEM_LIST_SET)?.string == "arrival")
        let sent = keysAndData(m)
        #expect(sent.flatMap(\.key) == list.keys)
        #expect(sent.flatMap { $0.data ?? [] } == list.data)
    }

    @Test("deleting elements sends the keys only")
    func deleteElements() throws {
        let list = try elements
        let m = try only { try $0.deleteElements("t", list) }
        #expect(m.type == Netlink.nftablesType(NFT_MSG_DELSETELEM))
        #expect(keysAndData(m).flatMap(\.key) == list.keys)
        #expect(keysAndData(m).allSatisfy { $0.data == nil })
    }

    @Test("a list too long for one message's 16-bit attribute length goes in several, every element once")
    func longElementList() throws {
        var e = StreamElements()
        for n in 0..<1000 {
            let relay = Endpoint(address: IPAddress("192.0.2.10")!, port: UInt16(20000 + 4 * n))
            try e.addInstall(KernelStream(a: KernelLeg(relay: relay, peer: Endpoint(address: IPAddress("203.0.113.2")!, port: 4000)),
                                          b: KernelLeg(relay: Endpoint(address: relay.address, port: relay.port + 2),
                                                       peer: Endpoint(address: IPAddress("198.51.100.2")!, port: 6000))),
                             routes: (KernelRoute(interface: 2, nextHop: IPAddress("203.0.113.2")!),
                                      KernelRoute(interface: 3, nextHop: IPAddress("198.51.100.1")!)))
        }
        let list = e.list(.arrival)
        var batch = NetlinkBatch(family: Self.netdev, firstSequence: 1)
        try batch.addElements("t", list)
        let messages = NetlinkMessage.split(batch.close()).dropFirst().dropLast()
        #expect(messages.count > 1)
        #expect(batch.messageCount == UInt32(messages.count))
        #expect(messages.flatMap { keysAndData($0).flatMap(\.key) } == list.keys)
        #expect(messages.flatMap { keysAndData($0).flatMap { $0.data ?? [] } } == list.data)
    }

    @Test("an empty element list writes no message")
    func emptyElements() throws {
        var batch = NetlinkBatch(family: Self.netdev, firstSequence: 1)
        try batch.addElements("t", ElementList(.arrival))
        try batch.deleteElements("t", ElementList(.arrival))
        #expect(batch.messageCount == 0)
    }
}
