import IPTRTPProxyCore

// Management reports of ipt_mod.h (the host's RPC commands).

/// `iptrtpproxy.list`: one line per live session.
@_cdecl("ipt_mod_report_sessions")
public func ipt_mod_report_sessions(_ text: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ length: UnsafeMutablePointer<Int32>?) -> Int32 {
    report(text, length) { try ManagementReport.sessions($0) }
}

/// `iptrtpproxy.stats`: relay-wide and per-switchboard counters.
@_cdecl("ipt_mod_report_stats")
public func ipt_mod_report_stats(_ text: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ length: UnsafeMutablePointer<Int32>?) -> Int32 {
    report(text, length) { try ManagementReport.stats($0) }
}

/// `iptrtpproxy.relays`: one line per media host.
@_cdecl("ipt_mod_report_relays")
public func ipt_mod_report_relays(_ text: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ length: UnsafeMutablePointer<Int32>?) -> Int32 {
    report(text, length) { try ManagementReport.relays($0) }
}

private func report(
    _ text: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ length: UnsafeMutablePointer<Int32>?,
    _ make: (ModuleState) throws -> String
) -> Int32 {
    let state = ModuleState.shared
    let lines: String
    var status: Int32 = 1
    do {
        lines = try make(state)
    } catch {
        lines = "\(error)"
        status = -1
    }
    text?.pointee = state.reportOut.fill(lines)
    length?.pointee = Int32(clamping: state.reportOut.count)
    return status
}
