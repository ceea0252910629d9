import Glibc
import IPTRTPProxyCore
import RTPRelay
import Testing
@testable import KernelOffload

/// What shared-socket mode hands the kernel: the program's range records byte for byte as
/// bpf/iptrtpproxy_sklookup.bpf.c reads `struct ipt_range`, and the reserved-ports list it writes.
@Suite("shared sockets: sk_lookup records and reserved ports")
struct SKLookupSteeringTests {
    @Test("an IPv4 range: family, address in network order, ports and base as 32-bit host-order words")
    func ipv4Range() {
        let range = GatePortRange(
            address: IPAddress("192.0.2.10")!, firstPort: 30000, lastPort: 31999, base: 1000, switchboard: 1, side: .b)
        let bytes = SKLookupSteering.bytes(of: range)
        #expect(bytes.count == 32)  // sizeof(struct ipt_range)
        func word(_ at: Int) -> UInt32 { bytes[at..<at + 4].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } }
        #expect(word(0) == UInt32(AF_INET))
        #expect(Array(bytes[4..<8]) == [192, 0, 2, 10] && bytes[8..<20].allSatisfy { $0 == 0 })
        #expect(word(20) == 30000 && word(24) == 31999 && word(28) == 1000)
    }

    @Test("an IPv6 range carries all 16 address bytes in network order")
    func ipv6Range() {
        let range = GatePortRange(
            address: IPAddress("2001:db8::7")!, firstPort: 40000, lastPort: 40001, base: 0, switchboard: 0, side: .a)
        let bytes = SKLookupSteering.bytes(of: range)
        #expect(bytes.count == 32)
        #expect(bytes[0..<4].withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) } == UInt32(AF_INET6))
        #expect(Array(bytes[4..<8]) == [0x20, 0x01, 0x0d, 0xb8] && bytes[19] == 7 && bytes[8..<19].allSatisfy { $0 == 0 })
    }

    @Test("the reserved ports: the gates' ranges after what was there", arguments: [
        ("", ["30000-30127"], "30000-30127"),
        ("\n", ["30000-30127", "4000"], "30000-30127,4000"),
        ("8080,9000-9010\n", ["30000-30127"], "8080,9000-9010,30000-30127"),
    ])
    func merged(previous: String, ours: [String], expected: String) {
        #expect(ReservedPorts.merged(previous: previous, adding: ours) == expected)
    }
}
