import IPTRTPProxyCore
import Testing
@testable import KernelOffload

/// The bytes of the XDP maps' keys and target, as bpf/iptrtpproxy_xdp.bpf.c lays them out
/// (`bpftool map dump` of a running relay shows the same fields by name: e2e 52).
@Suite("XDP stream entries")
struct XDPStreamEntryTests {
    let v4Stream = KernelStream(
        a: KernelLeg(relay: Endpoint(address: IPAddress("192.0.2.10")!, port: 30000),
                     peer: Endpoint(address: IPAddress("203.0.113.50")!, port: 5555)),
        b: KernelLeg(relay: Endpoint(address: IPAddress("192.0.2.11")!, port: 30002),
                     peer: Endpoint(address: IPAddress("198.51.100.2")!, port: 6000)))

    @Test("IPv4: the packet's own layout (addresses, then ports, network order) in ipt_streams4")
    func ipv4() throws {
        let entries = try XDPStreamEntry.directions(of: v4Stream)
        #expect(entries.count == 2)
        #expect(entries.allSatisfy { $0.map == "ipt_streams4" })
        let key = entries[0].key
        #expect(key.count == XDPStreamEntry.keySize4)
        #expect(Array(key[0..<4]) == [203, 0, 113, 50])                  // from A's client
        #expect(Array(key[4..<8]) == [192, 0, 2, 10])                    // to gate A
        #expect(Array(key[8..<12]) == [0x15, 0xb3, 0x75, 0x30])          // 5555, 30000
        let target = entries[0].target
        #expect(target.count == XDPStreamEntry.targetSize)
        #expect(Array(target[0..<4]) == [192, 0, 2, 11])                 // leaves from gate B
        #expect(Array(target[16..<20]) == [198, 51, 100, 2])             // to B's client
        #expect(Array(target[32..<36]) == [0x75, 0x32, 0x17, 0x70])      // 30002, 6000
        #expect(target[36...].allSatisfy { $0 == 0 })                    // counters and route cache start at zero
        // The other direction mirrors it.
        #expect(entries[1].arrival == v4Stream.b && entries[1].departure == v4Stream.a)
        #expect(Array(entries[1].key[0..<4]) == [198, 51, 100, 2])
    }

    @Test("IPv6: all sixteen bytes of each address, then the ports, in ipt_streams6")
    func ipv6() throws {
        let stream = KernelStream(
            a: KernelLeg(relay: Endpoint(address: IPAddress("2001:db8:a::10")!, port: 31000),
                         peer: Endpoint(address: IPAddress("2001:db8:1::2")!, port: 4000)),
            b: KernelLeg(relay: Endpoint(address: IPAddress("2001:db8:a::11")!, port: 31000),
                         peer: Endpoint(address: IPAddress("2001:db8:2::2")!, port: 6000)))
        let entry = try XDPStreamEntry.directions(of: stream)[0]
        #expect(entry.map == "ipt_streams6")
        let key = entry.key
        #expect(key.count == XDPStreamEntry.keySize6)
        #expect(Array(key[0..<16]) == [0x20, 0x01, 0x0d, 0xb8, 0, 1] + [UInt8](repeating: 0, count: 9) + [2])
        #expect(Array(key[16..<32]) == [0x20, 0x01, 0x0d, 0xb8, 0, 0x0a] + [UInt8](repeating: 0, count: 9) + [0x10])
        #expect(Array(key[32..<36]) == [0x0f, 0xa0, 0x79, 0x18])          // 4000, 31000
    }

    @Test("a stream mixing IPv4 and IPv6 is refused (a header cannot change size in place)")
    func mixed() {
        var stream = v4Stream
        stream.b.peer = Endpoint(address: IPAddress("2001:db8:2::2")!, port: 6000)
        #expect(throws: KernelOffloadError.self) { try XDPStreamEntry.directions(of: stream) }
    }

    @Test("the counters the program writes are read in host order")
    func counters() {
        var target = [UInt8](repeating: 0, count: XDPStreamEntry.targetSize)
        withUnsafeBytes(of: UInt64(123_456_789_012)) { target.replaceSubrange(40..<48, with: $0) }
        withUnsafeBytes(of: UInt64(42)) { target.replaceSubrange(48..<56, with: $0) }
        #expect(XDPStreamEntry.counter(fromTarget: target) == KernelCounter(packets: 123_456_789_012, bytes: 42))
    }
}
