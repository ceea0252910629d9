import Glibc
import IPTRTPProxyCore

// Process lifecycle of ipt_mod.h: the embedded relay's helper process, the workers, shutdown.

/// Runs the embedded relay in the freshly forked helper process; returns only on failure.
@_cdecl("ipt_mod_run_relay")
public func ipt_mod_run_relay() -> Int32 {
    let state = ModuleState.shared
    guard let switchboards = state.switchboards, let path = state.embeddedSocketPath else {
        HostLog.error("the embedded relay was not configured (module init did not run)")
        return -1
    }
    return EmbeddedRelay.run(switchboards: switchboards, socketPath: path, journalPath: state.configuration.relayJournal)
}

/// A worker was forked; its connection to the relay is made on first use.
@_cdecl("ipt_mod_child_init")
public func ipt_mod_child_init(_ rank: Int32) -> Int32 {
    return 0
}

/// The host shuts down: the main process removes the embedded relay's socket file.
@_cdecl("ipt_mod_destroy")
public func ipt_mod_destroy() {
    let state = ModuleState.shared
    guard getpid() == state.initPID, let path = state.embeddedSocketPath else { return }
    unlink(path)
}

/// Runs the prober in the freshly forked prober process; returns when the main process is gone.
@_cdecl("ipt_mod_run_prober")
public func ipt_mod_run_prober() -> Int32 {
    let state = ModuleState.shared
    guard let pool = state.pool else {
        HostLog.error("the prober has no media hosts to probe (module init did not run)")
        return -1
    }
    var prober = RelayProber(pool: pool, mainPID: state.initPID)
    prober.run()
    return 0
}
