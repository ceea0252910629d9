import Glibc
import CIPTRTPProxyNFT

/// The nf_tables objects the offload creates and deletes, each one message of a batch: libnftnl
/// objects filled here and written into the batch. Each throws ENOMEM when libnftnl cannot allocate.
extension NetlinkBatch {
    /// Adds table `table` (no error if it exists).
    mutating func addTable(_ table: String) throws(NetlinkError) {
        try tableMessage(table, NFT_MSG_NEWTABLE, flags: NLM_F_CREATE)
    }

    /// Deletes table `table` with everything in it (ENOENT if absent).
    mutating func deleteTable(_ table: String) throws(NetlinkError) {
        try tableMessage(table, NFT_MSG_DELTABLE, flags: 0)
    }

    private mutating func tableMessage(_ table: String, _ type: nf_tables_msg_types, flags: Int32) throws(NetlinkError) {
        guard let t = nftnl_table_alloc() else { throw NetlinkError(ENOMEM) }
        defer { nftnl_table_free(t) }
        nftnl_table_set_str(t, UInt16(NFTNL_TABLE_NAME.rawValue), table)
        append(type, flags: flags) { nftnl_table_nlmsg_build_payload($0, t) }
    }

    /// Adds a base chain of type filter, policy accept, on the ingress of `interfaces` (a netdev
    /// table), at `priority`. EINVAL without an interface.
    mutating func addIngressChain(_ table: String, _ chain: String, priority: Int32, interfaces: [String]) throws(NetlinkError) {
        guard !interfaces.isEmpty else { throw NetlinkError(EINVAL) }
        guard let c = nftnl_chain_alloc() else { throw NetlinkError(ENOMEM) }
        defer { nftnl_chain_free(c) }
        nftnl_chain_set_str(c, UInt16(NFTNL_CHAIN_TABLE.rawValue), table)
        nftnl_chain_set_str(c, UInt16(NFTNL_CHAIN_NAME.rawValue), chain)
        nftnl_chain_set_str(c, UInt16(NFTNL_CHAIN_TYPE.rawValue), "filter")
        nftnl_chain_set_u32(c, UInt16(NFTNL_CHAIN_HOOKNUM.rawValue), UInt32(IPT_NFT_NETDEV_INGRESS))
        nftnl_chain_set_s32(c, UInt16(NFTNL_CHAIN_PRIO.rawValue), priority)
        nftnl_chain_set_u32(c, UInt16(NFTNL_CHAIN_POLICY.rawValue), UInt32(IPT_NFT_ACCEPT))
        // libnftnl copies the names from a NULL-terminated array.
        let names: [UnsafeMutablePointer<CChar>?] = interfaces.map { strdup($0) }
        defer { names.forEach { free($0) } }
        let terminated = names.map { UnsafePointer($0) } + [nil]
        terminated.withUnsafeBufferPointer { _ = nftnl_chain_set_data(c, UInt16(NFTNL_CHAIN_DEVICES.rawValue), $0.baseAddress, 0) }
        append(NFT_MSG_NEWCHAIN, flags: NLM_F_CREATE, room: Self.objectMessageRoom + interfaces.count * 32) {
            nftnl_chain_nlmsg_build_payload($0, c)
        }
    }

    /// Adds `map` (with a packet/byte counter on every element when the map counts), named by its
    /// set id for rules of the same transaction.
    mutating func addMap(_ table: String, _ map: OffloadMap) throws(NetlinkError) {
        guard let s = nftnl_set_alloc() else { throw NetlinkError(ENOMEM) }
        defer { nftnl_set_free(s) }
        nftnl_set_set_str(s, UInt16(NFTNL_SET_TABLE.rawValue), table)
        nftnl_set_set_str(s, UInt16(NFTNL_SET_NAME.rawValue), map.name)
        nftnl_set_set_u32(s, UInt16(NFTNL_SET_ID.rawValue), map.setID)
        nftnl_set_set_u32(s, UInt16(NFTNL_SET_FAMILY.rawValue), UInt32(family))
        nftnl_set_set_u32(s, UInt16(NFTNL_SET_KEY_TYPE.rawValue), map.keyType)
        nftnl_set_set_u32(s, UInt16(NFTNL_SET_KEY_LEN.rawValue), UInt32(map.keyLength))
        var flags: UInt32 = 0
        if map.dataLength > 0 {
            flags |= NFT_SET_MAP.rawValue
            nftnl_set_set_u32(s, UInt16(NFTNL_SET_DATA_TYPE.rawValue), map.dataType)
            nftnl_set_set_u32(s, UInt16(NFTNL_SET_DATA_LEN.rawValue), UInt32(map.dataLength))
        }
        nftnl_set_set_u32(s, UInt16(NFTNL_SET_FLAGS.rawValue), flags)
        if map.counted {
            // The set takes the expression over: freed with it.
            guard let counter = nftnl_expr_alloc("counter") else { throw NetlinkError(ENOMEM) }
            nftnl_set_add_expr(s, counter)
        }
        append(NFT_MSG_NEWSET, flags: NLM_F_CREATE) { nftnl_set_nlmsg_build_payload($0, s) }
    }

    /// Appends `rule` to `chain`; a rule that could not be built is not written (its error is thrown).
    mutating func addRule(_ table: String, _ chain: String, _ rule: RuleBuilder) throws(NetlinkError) {
        guard let r = rule.raw else { throw NetlinkError(ENOMEM) }
        if rule.failure != 0 { throw NetlinkError(rule.failure) }
        nftnl_rule_set_str(r, UInt16(NFTNL_RULE_TABLE.rawValue), table)
        nftnl_rule_set_str(r, UInt16(NFTNL_RULE_CHAIN.rawValue), chain)
        nftnl_rule_set_u32(r, UInt16(NFTNL_RULE_FAMILY.rawValue), UInt32(family))
        append(NFT_MSG_NEWRULE, flags: NLM_F_CREATE | NLM_F_APPEND) { nftnl_rule_nlmsg_build_payload($0, r) }
    }

    /// Adds the elements of `list` (keys and data) to its map. Adding a key that exists with other
    /// data: EEXIST at commit. An empty list writes nothing; a long one several messages.
    mutating func addElements(_ table: String, _ list: ElementList) throws(NetlinkError) {
        try elementsMessage(NFT_MSG_NEWSETELEM, flags: NLM_F_CREATE, table, list, withData: true)
    }

    /// Deletes the elements of `list` from its map by key (ENOENT at commit if one is absent).
    mutating func deleteElements(_ table: String, _ list: ElementList) throws(NetlinkError) {
        try elementsMessage(NFT_MSG_DELSETELEM, flags: 0, table, list, withData: false)
    }

    /// Bytes an element may take in a message: its key, its data and a few attribute headers.
    private static func elementRoom(_ keyLength: Int, _ dataLength: Int) -> Int { keyLength + dataLength + 64 }

    /// The elements of one message: they are nested in one attribute, whose length is 16 bits,
    /// so a long list goes in several messages of the same transaction.
    static func elementsPerMessage(keyLength: Int, dataLength: Int) -> Int {
        max(1, (Int(UInt16.max) - 1024) / elementRoom(keyLength, dataLength))
    }

    private mutating func elementsMessage(_ type: nf_tables_msg_types, flags: Int32, _ table: String, _ list: ElementList,
                                          withData: Bool) throws(NetlinkError) {
        let keyLength = list.map.keyLength, dataLength = withData ? list.map.dataLength : 0
        let perMessage = Self.elementsPerMessage(keyLength: keyLength, dataLength: dataLength)
        for first in stride(from: 0, to: list.count, by: perMessage) {
            guard let s = nftnl_set_alloc() else { throw NetlinkError(ENOMEM) }
            defer { nftnl_set_free(s) }
            nftnl_set_set_str(s, UInt16(NFTNL_SET_TABLE.rawValue), table)
            nftnl_set_set_str(s, UInt16(NFTNL_SET_NAME.rawValue), list.map.name)
            let elements = first..<min(first + perMessage, list.count)
            for i in elements {
                // The set takes each element over: freed with it.
                guard let e = nftnl_set_elem_alloc() else { throw NetlinkError(ENOMEM) }
                let key: Range<Int> = i * keyLength..<(i + 1) * keyLength
                list.keys[key].withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Void in
                    nftnl_set_elem_set(e, UInt16(NFTNL_SET_ELEM_KEY), bytes.baseAddress, UInt32(bytes.count))
                }
                if dataLength > 0 {
                    let datum: Range<Int> = i * dataLength..<(i + 1) * dataLength
                    list.data[datum].withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Void in
                        nftnl_set_elem_set(e, UInt16(NFTNL_SET_ELEM_DATA), bytes.baseAddress, UInt32(bytes.count))
                    }
                }
                nftnl_set_elem_add(s, e)
            }
            append(type, flags: flags, room: 1024 + elements.count * Self.elementRoom(keyLength, dataLength)) {
                nftnl_set_elems_nlmsg_build_payload($0, s)
            }
        }
    }
}
