import IPTRTPProxyCore

// Process lifecycle of ipt_mod.h: the embedded relay's helper process and the workers.

/// The embedded relay's process.
enum EmbeddedRelay {
    /// TEMPORARY: false until the relay engine lands; the module then allocates in-process.
    static let isAvailable = false
}

/// Runs the embedded relay in the freshly forked helper process; returns only on failure.
@_cdecl("ipt_mod_run_relay")
public func ipt_mod_run_relay() -> Int32 {
    HostLog.error("the embedded relay is not available in this build")
    return -1
}

/// A worker was forked; its way to the media plane is made on first use.
@_cdecl("ipt_mod_child_init")
public func ipt_mod_child_init(_ rank: Int32) -> Int32 {
    return 0
}
