import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Synchronization
import Testing
@testable import RTPRelay

/// The parts' locks under load: control requests from several threads, housekeeping rounds and
/// `list`/`stats` while packets flow. Nothing may deadlock, and the books must balance.
@Suite("relay engine under concurrent control")
struct RelayConcurrencyTests {
    @Test("four threads allocating, updating and deleting beside housekeeping, reports and traffic leave balanced books")
    func concurrentControl() throws {
        let h = try RelayHarness(gateA: "127.0.31.1", gateB: "127.0.31.2", port: 33100, maxSessions: 40, resurrection: 0)
        defer { h.engine.stop() }
        let engine = h.engine
        let caller = try UDPPeer("127.0.31.10", 33900)
        let tally = Tally()
        var threads: [PosixThread] = []
        for t in 0..<4 {
            threads.append(try PosixThread(name: "test-control-\(t)") {
                for round in 0..<60 {
                    do {
                        let s = try engine.allocateSession(
                            switchboard: "pub", request: sideRequest(.a, "127.0.31.10", 33900))
                        try engine.updateSession(
                            switchboard: "pub", session: s.handle,
                            request: sideRequest(.b, "127.0.31.11", UInt16(34000 + 2 * t), learning: UInt32(round % 3)))
                        _ = try engine.list()
                        try engine.deleteSessions(switchboard: "pub", ids: s.handle.id...s.handle.id, created: s.handle.created)
                    } catch {
                        tally.failures.withLock { $0.append("thread \(t) round \(round): \(error)") }
                    }
                }
                tally.done.add(1, ordering: .releasing)
            })
        }
        // Housekeeping, reports and packets to whatever port is live, until the control threads end.
        var rounds = 0
        let deadline = MonotonicClock.nanoseconds() + 30_000_000_000
        while tally.done.load(ordering: .acquiring) < 4 && MonotonicClock.nanoseconds() < deadline {
            engine.housekeep()
            _ = engine.statistics()
            caller.send(payload("conc"), to: "127.0.31.1", 33100 + UInt16(2 * (rounds % 40)))
            rounds += 1
        }
        for t in threads { t.join() }
        let failed = tally.failures.withLock { $0 }
        #expect(failed.isEmpty, "\(failed.count) failed requests, first: \(failed.first ?? "")")
        let stats = engine.statistics()
        #expect(stats.sessionsAllocated == 240)
        #expect(stats.sessionsDeleted == 240)
        #expect(stats.sessionsActive == 0)
        #expect(try engine.list().sessions.isEmpty)
    }
}

/// What the control threads report back.
private final class Tally: Sendable {
    let failures = Mutex<[String]>([])
    let done = Atomic<Int>(0)
}
