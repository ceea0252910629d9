import IPTRTPProxyCore
import Testing
@testable import RTPRelay

@Suite("session layout: shards and slots")
struct SessionLayoutTests {
    func switchboards(_ sizes: [Int]) -> SwitchboardSet {
        SwitchboardSet(sizes.enumerated().map { i, n in
            Switchboard(
                name: "s\(i)", gateA: Gate(address: IPAddress("127.0.0.1")!, basePort: UInt16(20000 + 2000 * i)),
                gateB: Gate(address: IPAddress("127.0.0.2")!, basePort: UInt16(20000 + 2000 * i)), maxSessions: n)
        })
    }

    @Test("every session has exactly one shard slot, and the slot leads back to it", arguments: [1, 2, 3, 7])
    func oneSlotPerSession(shards: Int) {
        let layout = SessionLayout(switchboards: switchboards([5, 1, 12]), shards: shards)
        #expect(layout.sessionCount == 18)
        var seen = Set<[Int]>()
        for g in 0..<layout.sessionCount {
            let w = layout.shard(of: g), l = layout.local(of: g)
            #expect(w < shards)
            #expect(l < layout.sessionCount(ofShard: w))
            #expect(layout.global(shard: w, local: l) == g)
            #expect(seen.insert([w, l]).inserted)
        }
        #expect((0..<shards).map { layout.sessionCount(ofShard: $0) }.reduce(0, +) == 18)
    }

    @Test("a session's switchboard is the one whose range holds its global index")
    func switchboardOfSession() {
        let layout = SessionLayout(switchboards: switchboards([5, 1, 12]), shards: 2)
        #expect((0..<5).allSatisfy { layout.switchboard(of: $0) == 0 })
        #expect(layout.switchboard(of: 5) == 1)
        #expect((6..<18).allSatisfy { layout.switchboard(of: $0) == 2 })
        #expect(layout.global(switchboard: 2, id: 3) == 9)
    }
}
