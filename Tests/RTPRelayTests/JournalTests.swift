import IPTRTPProxyCore
import Testing
@testable import RTPRelay

@Suite("session journal records")
struct JournalTests {
    let h = SessionHandle(id: 7, created: 1_700_000_000)

    @Test("records are one text line each and read back the same")
    func lines() throws {
        let request = sideRequest(.a, "192.0.2.10", 4000, learning: 10)
        let records: [JournalRecord] = [
            .allocated(switchboard: "pub", session: h, request: request),
            .updated(switchboard: "pub", session: h, request: sideRequest(.b, "2001:db8::5", 5000)),
            .latched(switchboard: "pub", session: h, side: .a, stream: 1, source: Endpoint(address: IPAddress("203.0.113.9")!, port: 33001)),
            .latched(switchboard: "pub", session: h, side: .b, stream: 0, source: nil),
            .freed(switchboard: "pub", session: h, at: 1_700_000_100),
        ]
        #expect(records[0].line == "A pub 7 1700000000 a.always-learn=0 a.rtp=192.0.2.10:4000 a.rtp-learning=10 a.rtcp=192.0.2.10:4001 a.rtcp-learning=10")
        #expect(records[2].line == "L pub 7 1700000000 a 1 203.0.113.9:33001")
        #expect(records[3].line == "L pub 7 1700000000 b 0 -")
        #expect(records[4].line == "D pub 7 1700000000 1700000100")
        for r in records { #expect(JournalRecord(line: Substring(r.line)) == r) }
    }

    @Test("damaged lines are not records", arguments: [
        "", "A", "A pub x 1", "A pub 1 1 a.rtp=nonsense", "L pub 1 1 c 0 -", "L pub 1 1 a 2 -", "D pub 1 1", "Q pub 1 1",
    ])
    func damaged(line: String) {
        #expect(JournalRecord(line: Substring(line)) == nil)
    }

    @Test("replay merges updates, forgets a latch the update re-pointed, and keeps freed slots")
    func replay() {
        let other = SessionHandle(id: 8, created: 1_700_000_050)
        let state = JournalState(replaying: [
            .allocated(switchboard: "Pub", session: h, request: sideRequest(.a, "192.0.2.10", 4000, learning: 10)),
            .latched(switchboard: "pub", session: h, side: .a, stream: 0, source: Endpoint(address: IPAddress("203.0.113.9")!, port: 33000)),
            .latched(switchboard: "pub", session: h, side: .b, stream: 0, source: Endpoint(address: IPAddress("198.51.100.1")!, port: 5000)),
            .updated(switchboard: "pub", session: h, request: sideRequest(.b, "198.51.100.2", 6000)),
            .allocated(switchboard: "pub", session: other, request: SessionRequest()),
            .freed(switchboard: "pub", session: other, at: 1_700_000_060),
            // A record for another incarnation of slot 7 is ignored.
            .updated(switchboard: "pub", session: SessionHandle(id: 7, created: 1), request: sideRequest(.a, "192.0.2.99", 1)),
        ])
        let live = state.live["pub"]?[7]
        #expect(live?.session == h)
        #expect(live?.request[.a].streams[0].address?.description == "192.0.2.10:4000")
        #expect(live?.request[.b].streams[0].address?.description == "198.51.100.2:6000")
        #expect(live?.latches[0][0]?.description == "203.0.113.9:33000")
        #expect(live?.latches[1][0] == nil)
        #expect(state.live["pub"]?[8] == nil)
        #expect(state.freed["pub"]?[8] == JournalState.Freed(session: other, at: 1_700_000_060))
    }
}
