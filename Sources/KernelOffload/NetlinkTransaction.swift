import Glibc
import CIPTRTPProxyNFT

/// One nf_tables transaction for `netdev` tables on a socket: everything added is applied all
/// together or not at all. Building never throws; the first failure to build a message is kept and
/// thrown by `commit`, so that a ruleset reads as a plain list of what it adds.
final class NetlinkTransaction {
    private let socket: NetlinkSocket
    private var batch: NetlinkBatch
    private var failure: NetlinkError?

    /// Starts a transaction on `socket`, numbering its messages from the socket's next sequence number.
    init(_ socket: NetlinkSocket) {
        self.socket = socket
        batch = NetlinkBatch(family: UInt16(IPT_NFT_FAMILY_NETDEV), firstSequence: socket.nextSequence)
    }

    /// Runs one step of building, keeping its failure if it is the first.
    private func record(_ step: (inout NetlinkBatch) throws(NetlinkError) -> Void) {
        do throws(NetlinkError) { try step(&batch) } catch { failure = failure ?? error }
    }

    func addTable(_ table: String) { record { b throws(NetlinkError) in try b.addTable(table) } }

    func deleteTable(_ table: String) { record { b throws(NetlinkError) in try b.deleteTable(table) } }

    func addIngressChain(_ table: String, _ chain: String, priority: Int32, interfaces: [String]) {
        record { b throws(NetlinkError) in try b.addIngressChain(table, chain, priority: priority, interfaces: interfaces) }
    }

    func addMap(_ table: String, _ map: OffloadMap) { record { b throws(NetlinkError) in try b.addMap(table, map) } }

    func addRule(_ table: String, _ chain: String, _ rule: RuleBuilder) {
        record { b throws(NetlinkError) in try b.addRule(table, chain, rule) }
    }

    func addElements(_ table: String, _ list: ElementList) { record { b throws(NetlinkError) in try b.addElements(table, list) } }

    func deleteElements(_ table: String, _ list: ElementList) {
        record { b throws(NetlinkError) in try b.deleteElements(table, list) }
    }

    /// Sends the transaction and waits for the kernel's answer to each message. `what` names it in
    /// the error: the errno of the batch or of the first message the kernel refused (then nothing
    /// was applied), or of the failure to build, send or read.
    func commit(_ what: String) throws(KernelOffloadError) {
        do throws(NetlinkError) {
            if let failure { throw failure }
            try apply()
        } catch {
            throw KernelOffloadError.system(what, error.errno)
        }
    }

    private func apply() throws(NetlinkError) {
        guard batch.messageCount > 0 else { return }
        let bytes = batch.close()
        socket.nextSequence = batch.nextSequence
        try socket.send(bytes)
        var acks = BatchAcknowledgements(portID: socket.portID, beginSequence: batch.beginSequence,
                                         expected: batch.messageCount)
        while !acks.isSettled {
            let messages: [NetlinkMessage]
            do throws(NetlinkError) {
                messages = try socket.receive()
            } catch {
                // A refused message already read says more than the failed read (e.g. the wait ran out).
                throw acks.failure ?? error
            }
            for message in messages { acks.take(message) }
        }
        if acks.batchError == nil {
            // A late commit error is queued right behind the acks: read what is there, without waiting.
            while let late = socket.receiveQueued() { for message in late { acks.takeLate(message) } }
        }
        if let failure = acks.failure { throw failure }
    }
}
