import CIPTRTPProxy
import Glibc
import IPTRTPProxyPOSIX

/// The embedded relay's supervisor: a process of the proxy (forked by the host, in its process
/// table) that runs the relay as its own plain child, outside the host's table. The host ends
/// itself when one of its own children dies; the relay is not one of them (the host's main
/// process only waits for its direct children), so a relay that crashes costs the calls a
/// moment of media, never the proxy: the supervisor starts it again, and it restores its
/// sessions from the journal. Single-threaded, like every process of the host.
struct RelaySupervisor {
    /// The host's main process, which forked the supervisor.
    let mainPID: pid_t
    /// Runs the relay in the freshly forked child; returns only when the relay could not start.
    let runRelay: () -> Void
    /// When to start the relay again.
    var policy = RestartPolicy()

    /// The exit code of a relay that could not start (as opposed to one that died running).
    static let cannotStartCode: Int32 = 3
    /// The relay's process name (ps, top, pgrep -x): the kernel keeps 15 characters.
    static let relayProcessName = "ipt-relay"
    /// Signals the supervisor takes itself (blocked, read with sigtimedwait).
    private static let handled: [Int32] = [SIGCHLD, SIGTERM, SIGINT]

    /// Supervises until the host stops it (SIGTERM) or its main process is gone: then the relay
    /// is ended and waited for, so that its ports are free once the proxy is. Returns the
    /// process's exit code: 0, or 1 when the very first relay could not start (the host then
    /// stops, as it would for a module that cannot run).
    mutating func run() -> Int32 {
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in Self.handled { sigaddset(&signals, s) }
        sigprocmask(SIG_BLOCK, &signals, nil)
        var firstRun = true
        while true {
            let supervisor = getpid()
            let child = fork()
            if child == 0 { runChild(supervisor: supervisor) }
            if child < 0 {
                let reason = String(cString: strerror(errno))
                let restart = policy.restart(at: MonotonicClock.milliseconds())
                HostLog.error("cannot fork the embedded relay: \(reason); trying again in \(Self.seconds(restart.delay)) s")
                if !pause(milliseconds: restart.delay, signals: &signals, relay: nil) { return 0 }
                continue
            }
            HostLog.info("embedded relay started (pid \(child))")
            guard let end = waitForEnd(of: child, signals: &signals) else { return 0 }
            if firstRun && end == .exited(code: Self.cannotStartCode) {
                HostLog.error("the embedded relay cannot start (see above); the proxy stops")
                return 1
            }
            firstRun = false
            // The host stopping the whole process group ends the relay and this process at once:
            // that is no death to restart from.
            if stopPending() { return 0 }
            let restart = policy.restart(at: MonotonicClock.milliseconds())
            HostLog.warning("iptrtpproxy relay died (\(end)), restarting in \(Self.seconds(restart.delay)) s, "
                + "\(restart.restartsInWindow) restart(s) in the last minute")
            if !pause(milliseconds: restart.delay, signals: &signals, relay: nil) { return 0 }
        }
    }

    /// In the relay's process: the host's signal mask and handlers are not the relay's, the
    /// relay dies with its supervisor, then runs. Never returns.
    private func runChild(supervisor: pid_t) -> Never {
        var none = sigset_t()
        sigemptyset(&none)
        sigprocmask(SIG_SETMASK, &none, nil)
        for s in [SIGTERM, SIGINT, SIGCHLD] { signal(s, SIG_DFL) }
        for s in [SIGPIPE, SIGHUP, SIGUSR1, SIGUSR2] { signal(s, SIG_IGN) }
        // The supervisor may have been killed since the fork: then so must this process be.
        guard ParentDeath.tie(to: supervisor) else { _exit(0) }
        _ = ipt_set_thread_name(Self.relayProcessName)
        runRelay()
        _exit(Self.cannotStartCode)
    }

    /// Waits until `relay` ends and returns how; nil when the supervisor must stop (after
    /// ending the relay).
    private func waitForEnd(of relay: pid_t, signals: inout sigset_t) -> ChildEnd? {
        while true {
            var status: Int32 = 0
            let r = waitpid(relay, &status, WNOHANG)
            if r == relay, let end = ChildEnd(waitStatus: status) { return end }
            if r < 0 && errno != EINTR { return .exited(code: 0) }  // not our child any more: start another
            if !pause(milliseconds: 1000, signals: &signals, relay: relay) { return nil }
        }
    }

    /// Waits up to `milliseconds` or until a child ended (true), or until the host stops the
    /// supervisor (false, after ending `relay`).
    private func pause(milliseconds: Int64, signals: inout sigset_t, relay: pid_t?) -> Bool {
        let deadline = MonotonicClock.milliseconds() + milliseconds
        while true {
            if getppid() != mainPID { return stop(relay) }
            let left = deadline - MonotonicClock.milliseconds()
            guard left > 0 else { return true }
            var wait = timespec(tv_sec: Int(left / 1000), tv_nsec: Int(left % 1000) * 1_000_000)
            var info = siginfo_t()
            let s = sigtimedwait(&signals, &info, &wait)
            if s == SIGTERM || s == SIGINT { return stop(relay) }
            if s == SIGCHLD && relay != nil { return true }
        }
    }

    /// True when the host asked this process to stop (a signal waiting to be taken).
    private func stopPending() -> Bool {
        var pending = sigset_t()
        sigpending(&pending)
        return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1
    }

    /// Ends `relay` and waits for it: its sockets are closed when this returns.
    private func stop(_ relay: pid_t?) -> Bool {
        if let relay {
            kill(relay, SIGKILL)
            var status: Int32 = 0
            while waitpid(relay, &status, 0) < 0 && errno == EINTR {}
        }
        return false
    }

    private static func seconds(_ milliseconds: Int64) -> String {
        "\(milliseconds / 1000).\(milliseconds % 1000 / 100)"
    }
}
