import Glibc
import CIPTRTPProxyNFT

/// A netlink socket to nf_tables. Owned by one thread at a time.
final class NetlinkSocket {
    let raw: OpaquePointer

    /// Opens the socket; throws when netlink or nf_tables is unavailable.
    init() throws {
        guard let s = ipt_nft_socket_open() else {
            throw KernelOffloadError.system("kernel offload: netlink socket to nf_tables", errno)
        }
        raw = s
    }

    deinit { ipt_nft_socket_close(raw) }
}

/// One nf_tables transaction for `netdev` tables: everything added is applied all together or not at all.
final class NetlinkTransaction {
    private let batch: OpaquePointer
    private var failure: Int32 = 0

    /// Starts a transaction on `socket`.
    init(_ socket: NetlinkSocket) throws {
        guard let b = ipt_nft_batch_new(socket.raw, UInt16(IPT_NFT_FAMILY_NETDEV)) else {
            throw KernelOffloadError.system("kernel offload: netlink batch", errno)
        }
        batch = b
    }

    deinit { ipt_nft_batch_free(batch) }

    /// Keeps the first failure of building a message; `commit` reports it.
    private func record(_ result: Int32) {
        if result < 0 && failure == 0 { failure = -result }
    }

    func addTable(_ table: String) { record(ipt_nft_batch_add_table(batch, table)) }

    func deleteTable(_ table: String) { record(ipt_nft_batch_delete_table(batch, table)) }

    func addIngressChain(_ table: String, _ chain: String, priority: Int32, interfaces: [String]) {
        var names = interfaces.map { strdup($0) }
        defer { names.forEach { free($0) } }
        let result = names.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: buffer.count) {
                ipt_nft_batch_add_ingress_chain(batch, table, chain, priority, $0, UInt32(buffer.count))
            }
        }
        record(result)
    }

    func addMap(_ table: String, _ map: OffloadMap) {
        record(ipt_nft_batch_add_set(batch, table, map.name, map.setID, map.keyType, UInt32(map.keyLength),
                                     map.dataType, UInt32(map.dataLength), map.counted ? 1 : 0))
    }

    func addRule(_ table: String, _ chain: String, _ rule: RuleBuilder) {
        record(rule.failure == 0 ? ipt_nft_batch_add_rule(batch, table, chain, rule.raw) : -rule.failure)
    }

    func addElements(_ table: String, _ list: ElementList) {
        guard list.count > 0 else { return }
        list.keys.withUnsafeBufferPointer { k in
            list.data.withUnsafeBufferPointer { d in
                record(ipt_nft_batch_add_elements(batch, table, list.map.name, k.baseAddress, UInt32(list.map.keyLength),
                                                  d.baseAddress, UInt32(list.map.dataLength), UInt32(list.count)))
            }
        }
    }

    func deleteElements(_ table: String, _ list: ElementList) {
        guard list.count > 0 else { return }
        list.keys.withUnsafeBufferPointer { k in
            record(ipt_nft_batch_delete_elements(batch, table, list.map.name, k.baseAddress,
                                                 UInt32(list.map.keyLength), UInt32(list.count)))
        }
    }

    /// Applies the transaction. `what` names it in the error.
    func commit(_ what: String) throws {
        if failure != 0 { throw KernelOffloadError.system(what, failure) }
        let result = ipt_nft_batch_commit(batch)
        if result < 0 { throw KernelOffloadError.system(what, -result) }
    }
}
