import Glibc
import IPTRTPProxyCore
import Testing
@testable import IPTRTPProxyModule

@Suite("media host pool: weighted choice, shared health table")
struct RelayPoolTests {
    /// Runs the choice `calls` times the way an alloc does (best candidate, reserved) and counts.
    private func spread(weights: [Int], calls: Int, start: [UInt64]? = nil) -> [Int] {
        var assigned = start ?? Array(repeating: 0, count: weights.count)
        var counts = Array(repeating: 0, count: weights.count)
        for _ in 0..<calls {
            let first = WeightedChoice.order(weights.indices.map { .init(host: $0, weight: weights[$0], assigned: assigned[$0]) })[0]
            assigned[first] += 1
            counts[first] += 1
        }
        return counts
    }

    @Test("calls spread by weight, evenly over time: every prefix is within one call of its share")
    func spreadByWeight() {
        #expect(spread(weights: [2, 1, 1], calls: 400) == [200, 100, 100])
        #expect(spread(weights: [1, 1], calls: 11) == [6, 5])
        #expect(spread(weights: [5, 3], calls: 800) == [500, 300])
        for n in 1...40 {
            let c = spread(weights: [2, 1, 1], calls: n)
            for (i, w) in [2, 1, 1].enumerated() {
                #expect(abs(Double(c[i]) - Double(n * w) / 4) <= 1.0, "after \(n) calls host \(i) has \(c[i])")
            }
        }
    }

    @Test("the order lists every candidate once: the fallbacks of a failed host")
    func orderIsComplete() {
        let order = WeightedChoice.order([.init(host: 3, weight: 1, assigned: 9), .init(host: 1, weight: 2, assigned: 0), .init(host: 2, weight: 1, assigned: 0)])
        #expect(order == [1, 2, 3])
    }

    @Test("the table is shared with a forked child: health, generation and the last error cross")
    func sharedAcrossFork() throws {
        let table = try #require(SharedRelayTable(count: 2))
        #expect(table.health(0) == .unknown && table.health(1) == .unknown)
        #expect(table.sessions(0) == nil && table.lastError(0) == nil)
        let pid = fork()
        if pid == 0 {
            let took = table.markDown(1, reason: "control tcp:127.0.0.1:1: connect: Connection refused")
            _ = table.markDown(1, reason: "again")
            table.setSessions(0, 42)
            _ = table.markUp(0, weights: [1, 1])
            _exit(took ? 0 : 1)
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(status == 0)
        #expect(table.health(1) == .down)
        #expect(table.failures(1) == 1)
        #expect(table.lastError(1) == "again")
        #expect(table.health(0) == .up && table.generation(0) == 1)
        #expect(table.sessions(0) == 42)
        #expect(!table.markDown(1, reason: "still down"))
    }

    @Test("a host that comes back is given its share, so it does not take every new call")
    func catchUpOnReturn() throws {
        let table = try #require(SharedRelayTable(count: 2))
        _ = table.markUp(0, weights: [1, 1])
        for _ in 0..<100 { table.reserve(0) }
        _ = table.markDown(1, reason: "gone")
        #expect(table.markUp(1, weights: [1, 1]))
        #expect(table.assigned(1) == 100)
        #expect(table.generation(1) == 1)
        #expect(!table.markUp(1, weights: [1, 1]))
    }

    @Test("a long last error is cut, never overruns its slot")
    func longError() throws {
        let table = try #require(SharedRelayTable(count: 1))
        table.setLastError(0, String(repeating: "x", count: 1000))
        #expect(table.lastError(0)?.count == SharedRelayTable.maxErrorLength)
    }
}
