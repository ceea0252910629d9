import IPTRTPProxyCore
import Testing
@testable import KernelOffload

/// The map elements a stream becomes (kernel-forwarding.md, b2 keyed by the arrival 4-tuple),
/// shown in nft's notation. Caller 203.0.113.2:4000 on gate A 192.0.2.10:30000, reached through
/// interface 2 directly; callee 198.51.100.2:6000 on gate B 198.51.100.10:40000, reached through
/// interface 3 by way of the gateway 198.51.100.1.
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

    var routes: (a: KernelRoute, b: KernelRoute) {
        (KernelRoute(interface: 2, nextHop: IPAddress("203.0.113.2")!),
         KernelRoute(interface: 3, nextHop: IPAddress("198.51.100.1")!))
    }

    @Test("a packet from the latched caller leaves from gate B to the callee, by the callee's route, and back")
    func arrivalPointsAcross() throws {
        var e = StreamElements()
        try e.addInstall(call, routes: routes)
        #expect(e.list(.arrival).rendered == [
            "192.0.2.10 . 30000 . 203.0.113.2 . 4000 : 198.51.100.10 . 198.51.100.2 . 40000 . 6000 . #3 . 198.51.100.1",
            "198.51.100.10 . 40000 . 198.51.100.2 . 6000 : 192.0.2.10 . 203.0.113.2 . 30000 . 4000 . #2 . 203.0.113.2",
        ])
    }

    @Test("removal names the same keys, without data")
    func removalHasKeysOnly() throws {
        var install = StreamElements(), removal = StreamElements()
        try install.addInstall(call, routes: routes)
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
        try e.addInstall(sameports, routes: routes)
        #expect(Set(e.list(.arrival).rendered.map { $0.split(separator: ":")[0] }).count == 2)
    }

    @Test("an IPv6 stream is refused: the kernel path is IPv4 only")
    func ipv6IsRefused() {
        var e = StreamElements()
        let v6 = KernelStream(a: KernelLeg(relay: ep("2001:db8::1:30000"), peer: ep("203.0.113.2:4000")), b: call.b)
        #expect(throws: KernelOffloadError.self) { try e.addInstall(v6, routes: routes) }
        #expect(e.isEmpty)
    }

    @Test("keys and data are network order (the interface index native), each field of a concatenation padded to 4 bytes")
    func layout() throws {
        var e = StreamElements()
        try e.addInstall(call, routes: routes)
        #expect(Array(e.list(.arrival).keys.prefix(16)) ==
                [192, 0, 2, 10, 0x75, 0x30, 0, 0, 203, 0, 113, 2, 0x0f, 0xa0, 0, 0])
        // New source and destination back to back (one write), both ports in one word (one write).
        #expect(Array(e.list(.arrival).data.prefix(12)) ==
                [198, 51, 100, 10, 198, 51, 100, 2, 0x9c, 0x40, 0x17, 0x70])
        let interface = Array(e.list(.arrival).data[12..<16])
        #expect(interface.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } == 3)
        #expect(Array(e.list(.arrival).data[16..<20]) == [198, 51, 100, 1])
        #expect((OffloadMap.arrival.keyLength, OffloadMap.arrival.dataLength) == (16, 20))
    }

    @Test("types are nft's concatenations: ipv4_addr (7), inet_service (13), iface_index (20)")
    func types() {
        #expect(OffloadMap.arrival.keyType == ((7 << 6 | 13) << 6 | 7) << 6 | 13)
        #expect(OffloadMap.arrival.dataType == (((7 << 6 | 7) << 6 | 7) << 6 | 20) << 6 | 7)
    }
}
