import Testing
@testable import IPTRTPProxyModule

@Suite("the embedded relay's supervisor: restart back-off and how a child ended")
struct RelaySupervisorPolicyTests {
    @Test("a relay that dies now and then is restarted within 0.1 s, each time")
    func rareDeathsRestartAtOnce() {
        var policy = RestartPolicy()
        for minute in 0..<5 {
            let restart = policy.restart(at: Int64(minute) * 61_000)
            #expect(restart == .init(delay: 100, restartsInWindow: 1))
        }
    }

    @Test("a crash loop backs off: three quick restarts at 0.1 s, then doubling up to 5 s")
    func crashLoopBacksOff() {
        var policy = RestartPolicy()
        var now: Int64 = 1_000
        var delays: [Int64] = []
        for _ in 0..<10 {
            let restart = policy.restart(at: now)
            delays.append(restart.delay)
            now += restart.delay + 50  // the relay dies 50 ms after each start
        }
        #expect(delays == [100, 100, 100, 200, 400, 800, 1600, 3200, 5000, 5000])
        #expect(policy.recent.count == 10)
    }

    @Test("restarts older than a minute no longer count: a relay that ran a minute is back at once")
    func windowSlides() {
        var policy = RestartPolicy()
        for i in 0..<6 { _ = policy.restart(at: Int64(i) * 100) }
        #expect(policy.restart(at: 700).delay == 1600)
        let later = policy.restart(at: 700 + 60_000)
        #expect(later == .init(delay: 100, restartsInWindow: 1))
    }

    @Test("a crash loop costs at most one start per 5 s once backed off (no spinning)")
    func boundedRate() {
        var policy = RestartPolicy()
        var now: Int64 = 0
        var starts = 0
        while now < 600_000 {  // ten minutes of a relay that dies the moment it starts
            now += policy.restart(at: now).delay
            starts += 1
        }
        #expect(starts <= 600_000 / 5_000 + 10)
    }

    @Test("wait statuses: exit code, signal, core dump; stopped and continued are not ends")
    func childEnd() {
        #expect(ChildEnd(waitStatus: 3 << 8) == .exited(code: 3))
        #expect(ChildEnd(waitStatus: 0) == .exited(code: 0))
        #expect(ChildEnd(waitStatus: 9) == .signaled(signal: 9, core: false))
        #expect(ChildEnd(waitStatus: 11 | 0x80) == .signaled(signal: 11, core: true))
        #expect(ChildEnd(waitStatus: (19 << 8) | 0x7f) == nil)  // stopped by SIGSTOP
        #expect(ChildEnd(waitStatus: 0xffff) == nil)            // continued
        #expect("\(ChildEnd.signaled(signal: 9, core: false))" == "signal 9")
        #expect("\(ChildEnd.signaled(signal: 11, core: true))" == "signal 11, core dumped")
        #expect("\(ChildEnd.exited(code: 3))" == "exit 3")
    }
}
