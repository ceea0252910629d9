import Testing
@testable import IPTRTPProxyCore

@Suite("IPAddress parses and prints IPv4 and IPv6")
struct IPAddressTests {
    @Test("dotted quads parse to host-order values and print back", arguments: [
        ("192.0.2.1", UInt32(0xC000_0201)), ("0.0.0.0", 0), ("255.255.255.255", 0xFFFF_FFFF), ("10.0.0.1", 0x0A00_0001),
    ])
    func ipv4(text: String, value: UInt32) {
        #expect(IPAddress(text) == .v4(value))
        #expect(IPAddress(text)?.description == text)
    }

    @Test("malformed IPv4 is refused", arguments: [
        "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "1.2.3.", ".1.2.3", "a.b.c.d", "1.2.3.4 ", "01234.1.1.1", "host.example.com",
    ])
    func badIPv4(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test("IPv6 parses and prints in RFC 5952 form", arguments: [
        ("2001:db8::1", "2001:db8::1"), ("::", "::"), ("::1", "::1"),
        ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("fe80::1:0:0:2", "fe80::1:0:0:2"), ("1:0:0:2:0:0:0:3", "1:0:0:2::3"),
        ("::ffff:192.0.2.1", "::ffff:c000:201"), ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"),
    ])
    func ipv6(text: String, printed: String) {
        #expect(IPAddress(text)?.description == printed)
        #expect(IPAddress(printed) == IPAddress(text))
    }

    @Test("malformed IPv6 is refused", arguments: [
        ":", ":::", "1::2::3", "1:2:3:4:5:6:7:8:9", "12345::", "g::1", "1:2:3:4:5:6:7", "::1.2.3", "1:", ":1",
    ])
    func badIPv6(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test("unspecified addresses are recognised")
    func unspecified() {
        #expect(IPAddress("0.0.0.0")!.isUnspecified)
        #expect(IPAddress("::")!.isUnspecified)
        #expect(!IPAddress("10.0.0.1")!.isUnspecified)
    }
}
