import Glibc
import CIPTRTPProxyNFT

/// One element of an nf_tables set as a dump shows it: its key and its counter (zero when the
/// element has none).
struct SetElementCounter: Equatable {
    /// The key's bytes, as the kernel holds them.
    var key: [UInt8]
    /// Packets counted.
    var packets: UInt64
    /// Bytes counted.
    var bytes: UInt64
}

/// Reading the per-element counters of a set: one GETSETELEM dump request, and the parsing of its
/// NEWSETELEM reply messages.
enum SetElementCounters {
    /// Reads the elements of `set` in `table` (of `family`) over `socket`, with their counters.
    static func dump(_ socket: NetlinkSocket, family: UInt16, table: String, set: String) throws(NetlinkError) -> [SetElementCounter] {
        let sequence = socket.takeSequence()
        try socket.send(try request(family: family, table: table, set: set, sequence: sequence))
        let replies = RequestReplies(sequence: sequence, portID: socket.portID)
        var elements: [SetElementCounter] = []
        while true {
            for message in try socket.receive() {
                switch try replies.read(message) {
                case .data: elements += try Self.elements(in: message)
                case .done: return elements
                case .skip: continue
                }
            }
        }
    }

    /// The dump request: which set, of which table.
    static func request(family: UInt16, table: String, set: String, sequence: UInt32) throws(NetlinkError) -> [UInt8] {
        guard let s = nftnl_set_alloc() else { throw NetlinkError(ENOMEM) }
        defer { nftnl_set_free(s) }
        nftnl_set_set_str(s, UInt16(NFTNL_SET_TABLE.rawValue), table)
        nftnl_set_set_str(s, UInt16(NFTNL_SET_NAME.rawValue), set)
        var bytes = [UInt8](repeating: 0, count: 1024)
        let length = bytes.withUnsafeMutableBytes { buffer in
            let header = nftnl_nlmsg_build_hdr(buffer.baseAddress!.assumingMemoryBound(to: CChar.self),
                                               UInt16(NFT_MSG_GETSETELEM.rawValue), family, UInt16(NLM_F_DUMP), sequence)!
            nftnl_set_elems_nlmsg_build_payload(header, s)
            return Int(header.pointee.nlmsg_len)
        }
        return Array(bytes[..<length])
    }

    /// The elements one NEWSETELEM message carries. Throws EPROTO when the message is malformed.
    ///
    /// Layout: nfgenmsg, then NFTA_SET_ELEM_LIST_ELEMENTS holding one NFTA_LIST_ELEM per element;
    /// an element holds its key (NFTA_SET_ELEM_KEY → NFTA_DATA_VALUE) and its expressions: one as
    /// NFTA_SET_ELEM_EXPR, several as NFTA_SET_ELEM_EXPRESSIONS → NFTA_LIST_ELEM each.
    static func elements(in message: NetlinkMessage) throws(NetlinkError) -> [SetElementCounter] {
        guard message.payload.count >= MemoryLayout<nfgenmsg>.size else { throw NetlinkError(EPROTO) }
        let list = message.attributes(after: MemoryLayout<nfgenmsg>.size).first(NFTA_SET_ELEM_LIST_ELEMENTS)?.nested ?? []
        var elements: [SetElementCounter] = []
        for entry in list where entry.type == UInt16(NFTA_LIST_ELEM.rawValue) {
            let attributes = entry.nested
            var element = SetElementCounter(key: [], packets: 0, bytes: 0)
            if let key = attributes.first(NFTA_SET_ELEM_KEY)?.nested.first(NFTA_DATA_VALUE) {
                element.key = Array(key.payload)
            }
            var expressions: [NetlinkAttribute] = []
            if let one = attributes.first(NFTA_SET_ELEM_EXPR) { expressions.append(one) }
            if let several = attributes.first(NFTA_SET_ELEM_EXPRESSIONS) {
                expressions += several.nested.filter { $0.type == UInt16(NFTA_LIST_ELEM.rawValue) }
            }
            for expression in expressions {
                let parts = expression.nested
                guard parts.first(NFTA_EXPR_NAME)?.string == "counter" else { continue }
                let data = parts.first(NFTA_EXPR_DATA)?.nested ?? []
                element.packets = try counterValue(data.first(NFTA_COUNTER_PACKETS))
                element.bytes = try counterValue(data.first(NFTA_COUNTER_BYTES))
            }
            elements.append(element)
        }
        return elements
    }

    /// A counter's 64-bit value (network byte order); 0 when absent.
    private static func counterValue(_ attribute: NetlinkAttribute?) throws(NetlinkError) -> UInt64 {
        guard let attribute else { return 0 }
        guard let value = attribute.bigEndianUInt64 else { throw NetlinkError(EPROTO) }
        return value
    }
}
