import IPTRTPProxyCore

// The RPC commands of ipt_mod.h. Each reads its parameters (text, as the glue scanned them),
// builds its answer as an `RPCValue` tree (ManagementReport) and hands the tree to the glue's
// callbacks node by node (RPCReplyWriter); or, when it cannot answer, returns the fault's code
// with its one line of text. Nothing here throws or traps on bad input.

/// `iptrtpproxy.list [OFFSET [LIMIT [SWITCHBOARD]]]`: a page of the relays' sessions.
@_cdecl("ipt_mod_rpc_list")
public func ipt_mod_rpc_list(
    _ parameters: UnsafePointer<UnsafePointer<CChar>?>?, _ lengths: UnsafePointer<Int32>?, _ count: Int32,
    _ open: HostRPCOpen?, _ number: HostRPCNumber?, _ text: HostRPCText?, _ context: UnsafeMutableRawPointer?,
    _ fault: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ faultLength: UnsafeMutablePointer<Int32>?
) -> Int32 {
    answer("iptrtpproxy.list", ManagementReport.listUsage, parameters, lengths, count, open, number, text, context, fault, faultLength,
        ManagementReport.sessions)
}

/// `iptrtpproxy.stats [SWITCHBOARD]`: the relays' counters.
@_cdecl("ipt_mod_rpc_stats")
public func ipt_mod_rpc_stats(
    _ parameters: UnsafePointer<UnsafePointer<CChar>?>?, _ lengths: UnsafePointer<Int32>?, _ count: Int32,
    _ open: HostRPCOpen?, _ number: HostRPCNumber?, _ text: HostRPCText?, _ context: UnsafeMutableRawPointer?,
    _ fault: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ faultLength: UnsafeMutablePointer<Int32>?
) -> Int32 {
    answer("iptrtpproxy.stats", ManagementReport.statsUsage, parameters, lengths, count, open, number, text, context, fault, faultLength,
        ManagementReport.stats)
}

/// `iptrtpproxy.relays`: the media hosts' health.
@_cdecl("ipt_mod_rpc_relays")
public func ipt_mod_rpc_relays(
    _ parameters: UnsafePointer<UnsafePointer<CChar>?>?, _ lengths: UnsafePointer<Int32>?, _ count: Int32,
    _ open: HostRPCOpen?, _ number: HostRPCNumber?, _ text: HostRPCText?, _ context: UnsafeMutableRawPointer?,
    _ fault: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ faultLength: UnsafeMutablePointer<Int32>?
) -> Int32 {
    answer("iptrtpproxy.relays", "(no parameters)", parameters, lengths, count, open, number, text, context, fault, faultLength,
        ManagementReport.relays)
}

private func answer(
    _ command: String, _ usage: String,
    _ parameters: UnsafePointer<UnsafePointer<CChar>?>?, _ lengths: UnsafePointer<Int32>?, _ count: Int32,
    _ open: HostRPCOpen?, _ number: HostRPCNumber?, _ text: HostRPCText?, _ context: UnsafeMutableRawPointer?,
    _ fault: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ faultLength: UnsafeMutablePointer<Int32>?,
    _ make: (ModuleState, RPCParameters) throws(RPCFault) -> RPCValue
) -> Int32 {
    let state = ModuleState.shared
    func refuse(_ f: RPCFault) -> Int32 {
        fault?.pointee = state.reportOut.fill(f.message)
        faultLength?.pointee = Int32(clamping: state.reportOut.count)
        return f.code
    }
    guard let open, let number, let text else { return refuse(RPCFault(500, "\(command): the host gave no reply callbacks")) }
    guard let read = RPCParameters(command: command, usage: usage, parameters, lengths, count) else {
        return refuse(RPCFault(500, "\(command): the host passed unreadable parameters"))
    }
    do {
        let reply = try make(state, read)
        let writer = RPCReplyWriter(open: open, number: number, text: text, context: context)
        if let refused = writer.write(reply) {
            // The transport's limits are the host's: say which, once, in the log and to the client.
            let f = RPCFault(500, "\(command): the host's RPC transport refused the answer at item \(refused) of \(reply.nodeCount); ask for fewer sessions (LIMIT)")
            HostLog.error(f.message)
            return refuse(f)
        }
        return 0
    } catch {
        return refuse(error)
    }
}

extension RPCParameters {
    /// The parameters as the glue passes them: `count` texts (pointer + length each); a negative
    /// count says the host met one it could not read as text. Nil when the arrays are missing.
    init?(command: String, usage: String, _ texts: UnsafePointer<UnsafePointer<CChar>?>?, _ lengths: UnsafePointer<Int32>?, _ count: Int32) {
        self.init(command: command, usage: usage, texts: [])
        guard count >= 0 else {
            readable = false
            return
        }
        guard count == 0 || (texts != nil && lengths != nil), count <= 16 else { return nil }
        for i in 0..<Int(count) {
            guard let t = HostText.string(texts![i], lengths![i]) else { return nil }
            self.texts.append(t)
        }
    }
}
