import Glibc
import IPTRTPProxyCore

// Process lifecycle of ipt_mod.h: the embedded relay's supervisor (and through it the relay), the
// workers, shutdown. Every process the host forks is tied to the host's main process (parent-death
// signal), so that a proxy killed outright leaves nothing behind that holds its ports.

/// Runs the embedded relay's supervisor in the freshly forked supervisor process: it forks the
/// relay, and starts it again whenever it dies. Returns the process's exit code when it ends.
@_cdecl("ipt_mod_run_supervisor")
public func ipt_mod_run_supervisor() -> Int32 {
    let state = ModuleState.shared
    guard ParentDeath.tie(to: state.initPID) else { _exit(0) }
    guard let switchboards = state.switchboards, let path = state.embeddedSocketPath else {
        HostLog.error("the embedded relay was not configured (module init did not run)")
        return 1
    }
    let journal = state.embeddedJournalPath
    let metrics = state.configuration.relayMetrics
    let keptSessions = state.configuration.relayKeptSessions
    var supervisor = RelaySupervisor(mainPID: state.initPID) {
        _ = EmbeddedRelay.run(
            switchboards: switchboards, socketPath: path, journalPath: journal, metrics: metrics, keptSessions: keptSessions)
    }
    return supervisor.run()
}

/// A process of the host was forked (a worker, a timer, ...): it dies with the main process. Its
/// connection to the relay is made on first use.
@_cdecl("ipt_mod_child_init")
public func ipt_mod_child_init(_ rank: Int32) -> Int32 {
    let state = ModuleState.shared
    // Without forking (fork=no) the host runs its workers' init in the main process itself.
    guard state.initPID != 0, getpid() != state.initPID else { return 0 }
    if !ParentDeath.tie(to: state.initPID) && kill(state.initPID, 0) != 0 {
        // The main process died before this one was tied to it: nothing is left to serve.
        _exit(0)
    }
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
    guard ParentDeath.tie(to: state.initPID) else { _exit(0) }
    guard let pool = state.pool else {
        HostLog.error("the prober has no media hosts to probe (module init did not run)")
        return -1
    }
    var prober = RelayProber(pool: pool, mainPID: state.initPID)
    prober.run()
    return 0
}
