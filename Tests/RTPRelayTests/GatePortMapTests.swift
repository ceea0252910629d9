import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Testing
@testable import RTPRelay

/// Shared-socket mode's demultiplexing: a packet's gate address and port lead to exactly the leg
/// the per-port sockets would have given it, and back to the relay's endpoint on the other gate.
@Suite("shared sockets: gate port map")
struct GatePortMapTests {
    static let boards = SwitchboardSet([
        Switchboard(
            name: "one", gateA: Gate(address: IPAddress("127.0.0.1")!, basePort: 30000),
            gateB: Gate(address: IPAddress("127.0.0.2")!, basePort: 30000), maxSessions: 10),
        Switchboard(
            name: "two", gateA: Gate(address: IPAddress("127.0.0.1")!, basePort: 31000),
            gateB: Gate(address: IPAddress("2001:db8::2")!, basePort: 32000), maxSessions: 5),
    ])

    static func peer(_ text: String, _ port: UInt16) -> PeerAddress { PeerAddress(Endpoint(address: IPAddress(text)!, port: port)) }

    @Test("every port of every gate maps to its session, gate and stream, and back", arguments: [1, 2, 3])
    func everyPort(shards: Int) throws {
        let layout = SessionLayout(switchboards: Self.boards, shards: shards)
        let map = GatePortMap(switchboards: Self.boards, layout: layout)
        #expect(map.ranges.count == 4)
        for (s, sw) in Self.boards.all.enumerated() {
            for id in 0..<sw.maxSessions {
                for side in GateSide.allCases {
                    for stream in 0..<2 {
                        let gate = sw.gate(side)
                        let endpoint = PeerAddress(Endpoint(address: gate.address, port: gate.rtpPort(session: id) + UInt16(stream)))
                        let (range, offset) = try #require(map.range(of: endpoint))
                        let leg = map.leg(range: range, offset: offset)
                        #expect(leg.global == layout.global(switchboard: s, id: id) && leg.side == side && leg.stream == stream)
                        #expect(map.gate(range: range, offset: offset) == endpoint)
                        let other = sw.gate(side.opposite)
                        #expect(map.gate(range: range ^ 1, offset: offset)
                            == PeerAddress(Endpoint(address: other.address, port: other.rtpPort(session: id) + UInt16(stream))))
                    }
                }
            }
        }
    }

    @Test("ports and addresses outside every range map to nothing")
    func outside() {
        let map = GatePortMap(switchboards: Self.boards, layout: SessionLayout(switchboards: Self.boards, shards: 2))
        #expect(map.range(of: Self.peer("127.0.0.1", 29999)) == nil)
        #expect(map.range(of: Self.peer("127.0.0.1", 30020)) == nil)  // one past session 9's RTCP
        #expect(map.range(of: Self.peer("127.0.0.3", 30000)) == nil)
        #expect(map.range(of: Self.peer("2001:db8::2", 31000)) == nil)
        #expect(map.range(of: Self.peer("2001:db8::2", 32009)) != nil)
        #expect(map.range(of: Self.peer("2001:db8::2", 32010)) == nil)
        #expect(map.refusal == nil)
    }

    @Test("overlapping ranges and unspecified gate addresses are refused")
    func refusals() {
        let overlap = SwitchboardSet([
            Switchboard(
                name: "x", gateA: Gate(address: IPAddress("127.0.0.1")!, basePort: 30000),
                gateB: Gate(address: IPAddress("127.0.0.1")!, basePort: 30010), maxSessions: 10),
        ])
        #expect(GatePortMap(switchboards: overlap, layout: SessionLayout(switchboards: overlap, shards: 1)).refusal != nil)
        let wildcard = SwitchboardSet([
            Switchboard(
                name: "y", gateA: Gate(address: IPAddress("0.0.0.0")!, basePort: 30000),
                gateB: Gate(address: IPAddress("127.0.0.1")!, basePort: 30000), maxSessions: 10),
        ])
        #expect(GatePortMap(switchboards: wildcard, layout: SessionLayout(switchboards: wildcard, shards: 1)).refusal != nil)
    }
}
