import IPTRTPProxyCore
import Testing
@testable import KernelOffload

/// The map elements a stream becomes (kernel-forwarding.md, b1′ keyed by the arrival 4-tuple),
/// shown in nft's notation. Caller 203.0.113.2:4000 on gate A 192.0.2.10:30000; callee
/// 198.51.100.2:6000 on gate B 198.51.100.10:40000.
@Suite("Stream elements")
struct StreamElementsTests {
    func ep(_ s: String) -> Endpoint {
        let i = s.lastIndex(of: ":")!
        return Endpoint(address: IPAddress(String(s[..<i]))!, port: UInt16(s[s.index(after: i)...])!)
    }

    var call: KernelStream {
        KernelStream(a: KernelLeg(relay: ep("192.0.2.10:30000"), peer: ep("203.0.113.2:4000")),
                     b: KernelLeg(relay: ep("198.51.100.10:40000"), peer: ep("198.51.100.2:6000")))
    }

    @Test("a packet from the latched caller goes to the callee, from gate B's port, and back")
    func arrivalPointsAcross() throws {
        var e = StreamElements()
        try e.addInstall(call)
        #expect(e.list(.arrival).rendered == [
            "192.0.2.10 . 30000 . 203.0.113.2 . 4000 : 198.51.100.2 . 40000 . 6000",
            "198.51.100.10 . 40000 . 198.51.100.2 . 6000 : 203.0.113.2 . 30000 . 4000",
        ])
    }

    @Test("on the way out a relayed packet takes the address of the gate it leaves from")
    func departureGivesTheOtherGate() throws {
        var e = StreamElements()
        try e.addInstall(call)
        #expect(e.list(.departure).rendered == [
            "198.51.100.2 . 6000 . 40000 : 198.51.100.10",
            "203.0.113.2 . 4000 . 30000 : 192.0.2.10",
        ])
    }

    @Test("removal names the same keys, without data")
    func removalHasKeysOnly() throws {
        var install = StreamElements(), removal = StreamElements()
        try install.addInstall(call)
        try removal.addRemoval(call)
        for map in OffloadMap.allCases {
            #expect(removal.list(map).count == 2)
            #expect(removal.list(map).keys == install.list(map).keys)
            #expect(removal.list(map).data.isEmpty)
        }
    }

    @Test("gates may share port numbers: keys hold the relay address too")
    func sharedPortNumbers() throws {
        var e = StreamElements()
        let sameports = KernelStream(a: KernelLeg(relay: ep("192.0.2.10:40000"), peer: ep("203.0.113.2:4000")),
                                     b: KernelLeg(relay: ep("198.51.100.10:40000"), peer: ep("198.51.100.2:6000")))
        try e.addInstall(sameports)
        #expect(Set(e.list(.arrival).rendered.map { $0.split(separator: ":")[0] }).count == 2)
    }

    @Test("an IPv6 stream is refused: the table is ip (IPv4)")
    func ipv6IsRefused() {
        var e = StreamElements()
        let v6 = KernelStream(a: KernelLeg(relay: ep("2001:db8::1:30000"), peer: ep("203.0.113.2:4000")), b: call.b)
        #expect(throws: KernelOffloadError.self) { try e.addInstall(v6) }
        #expect(e.isEmpty)
    }

    @Test("keys and data are network order, each field of a concatenation padded to 4 bytes")
    func layout() throws {
        var e = StreamElements()
        try e.addInstall(call)
        #expect(Array(e.list(.arrival).keys.prefix(16)) ==
                [192, 0, 2, 10, 0x75, 0x30, 0, 0, 203, 0, 113, 2, 0x0f, 0xa0, 0, 0])
        #expect(Array(e.list(.arrival).data.prefix(12)) == [198, 51, 100, 2, 0x9c, 0x40, 0, 0, 0x17, 0x70, 0, 0])
        #expect(Array(e.list(.departure).data.prefix(4)) == [198, 51, 100, 10])
        #expect((OffloadMap.arrival.keyLength, OffloadMap.arrival.dataLength) == (16, 12))
        #expect((OffloadMap.departure.keyLength, OffloadMap.departure.dataLength) == (12, 4))
    }

    @Test("types are nft's concatenations of ipv4_addr (7) and inet_service (13)")
    func types() {
        #expect(OffloadMap.arrival.keyType == ((7 << 6 | 13) << 6 | 7) << 6 | 13)
        #expect(OffloadMap.arrival.dataType == (7 << 6 | 13) << 6 | 13)
        #expect(OffloadMap.departure.keyType == (7 << 6 | 13) << 6 | 13)
        #expect(OffloadMap.departure.dataType == 7)
    }
}
