import IPTRTPProxyCore

// The @iptrtpproxy.* selects of ipt_mod.h.

/// Clears every select; the host calls it before each script run.
@_cdecl("ipt_mod_reset_selects")
public func ipt_mod_reset_selects() {
    ModuleState.shared.selects = SelectValues()
}

/// Reads one select: 1 with its value, or 0 when it has none.
@_cdecl("ipt_mod_get_select")
public func ipt_mod_get_select(
    _ which: Int32, _ value: UnsafeMutablePointer<UnsafePointer<CChar>?>?, _ length: UnsafeMutablePointer<Int32>?
) -> Int32 {
    let state = ModuleState.shared
    let text: String?
    switch which {
    case 0: text = state.selects.sessionIDs
    case 1: text = state.selects.sdpIP
    case 2: text = state.selects.switchboard
    case 3: text = state.selects.direction.map { String($0) }
    default: text = nil
    }
    guard let text, let value, let length, which >= 0, Int(which) < state.selectOut.count else { return 0 }
    let buffer = state.selectOut[Int(which)]
    value.pointee = buffer.holds(text) ? buffer.pointer : buffer.fill(text)
    length.pointee = Int32(clamping: buffer.count)
    return 1
}
