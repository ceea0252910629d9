import Testing
@testable import IPTRTPProxyCore

/// The STUN reading and writing of the relay's ICE-lite agent, against the test vectors of
/// RFC 5769 and against random bytes.
@Suite("STUN messages of ICE checks")
struct STUNMessageTests {
    /// RFC 5769 §2.1: a Binding request with SOFTWARE ("STUN test client"), PRIORITY, ICE-CONTROLLED, USERNAME
    /// "evtj:h6vY", MESSAGE-INTEGRITY (password "VOkJxbRl1RmTxUk/WvJxBt") and FINGERPRINT.
    static let rfc5769Request: [UInt8] = [
        0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
        0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
        0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
        0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
        0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
        0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
        0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
    ]

    @Test("RFC 5769's sample request is read: username, integrity and the bytes it covers; FINGERPRINT checks")
    func sampleRequest() throws {
        let r = try #require(STUNMessage.parseBindingRequest(Self.rfc5769Request))
        #expect(r.username == Array("evtj:h6vY".utf8))
        #expect(r.isAddressed(to: "evtj") && !r.isAddressed(to: "h6vY") && !r.isAddressed(to: "evt"))
        #expect(!r.useCandidate)
        #expect(r.transactionID == Array(Self.rfc5769Request[8..<20]))
        #expect(r.integrity == Array(Self.rfc5769Request[80..<100]))
        // Covered: everything before MESSAGE-INTEGRITY, the length counting up to its end (76 + 24 - 20 = 80).
        #expect(r.integrityInput.count == 76 && r.integrityInput[2] == 0 && r.integrityInput[3] == 80)
        Self.rfc5769Request.withUnsafeBytes { raw in
            #expect(STUNMessage.looksLikeSTUN(raw.baseAddress!, length: raw.count))
            #expect(!STUNMessage.looksLikeSTUN(raw.baseAddress!, length: raw.count - 4))
        }
    }

    @Test("a wrong FINGERPRINT, a truncated attribute, another method or a missing integrity is not a check")
    func refusals() {
        var bad = Self.rfc5769Request
        bad[bad.count - 1] ^= 1
        #expect(STUNMessage.parseBindingRequest(bad) == nil)
        var response = Self.rfc5769Request
        response[1] = 0x11  // an indication
        #expect(STUNMessage.parseBindingRequest(response) == nil)
        #expect(STUNMessage.parseBindingRequest(Array(Self.rfc5769Request.prefix(76))) == nil)
        // Cut before MESSAGE-INTEGRITY, length fixed up: no integrity, no check.
        var bare = Array(Self.rfc5769Request.prefix(76))
        bare[3] = 56
        #expect(STUNMessage.parseBindingRequest(bare) == nil)
        #expect(STUNMessage.parseBindingRequest([]) == nil)
    }

    @Test("the response's XOR-MAPPED-ADDRESS is RFC 5769's for 192.0.2.1:32853 and 2001:db8:1234:5678:11:2233:4455:6677")
    func mappedAddress() throws {
        let id = Array(Self.rfc5769Request[8..<20])
        let v4 = STUNMessage.bindingSuccess(transactionID: id, mapped: Endpoint(address: IPAddress("192.0.2.1")!, port: 32853)) { _ in
            [UInt8](repeating: 7, count: 20)
        }
        #expect(Array(v4[0..<2]) == [0x01, 0x01])
        #expect(Array(v4[20..<32]) == [0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43])
        let v6 = STUNMessage.bindingSuccess(
            transactionID: id, mapped: Endpoint(address: IPAddress("2001:db8:1234:5678:11:2233:4455:6677")!, port: 32853)) { _ in
            [UInt8](repeating: 7, count: 20)
        }
        #expect(Array(v6[20..<44]) == [
            0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79,
            0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
        ])
        // Length, MESSAGE-INTEGRITY then FINGERPRINT last, with the CRC of what precedes it.
        for r in [v4, v6] {
            #expect(Int(r[2]) << 8 | Int(r[3]) == r.count - 20)
            let fp = r.count - 8
            #expect(Array(r[fp..<(fp + 4)]) == [0x80, 0x28, 0x00, 0x04])
            #expect(Array(r[(fp - 24)..<(fp - 20)]) == [0x00, 0x08, 0x00, 0x14])
            let crc = STUNMessage.crc32(r[0..<fp]) ^ 0x5354_554E
            #expect(STUNMessage.word32(r, fp + 4) == crc)
        }
    }

    @Test("CRC-32 is the usual one (\"123456789\" gives CBF43926)")
    func crc() {
        #expect(STUNMessage.crc32(Array("123456789".utf8)[...]) == 0xCBF4_3926)
    }

    @Test("random bytes and mutated checks never trap", arguments: [1, 2, 3, 4])
    func neverTraps(seed: UInt64) {
        var rng = SeededRandom(state: seed)
        for _ in 0..<3000 {
            var bytes = Self.rfc5769Request
            for _ in 0..<Int(rng.next() % 6) {
                let i = Int(rng.next() % UInt64(bytes.count))
                bytes[i] = UInt8(truncatingIfNeeded: rng.next())
            }
            if rng.next() % 4 == 0 { bytes = Array(bytes.prefix(Int(rng.next() % UInt64(bytes.count + 1)))) }
            _ = STUNMessage.parseBindingRequest(bytes)
            let random = (0..<Int(rng.next() % 120)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = STUNMessage.parseBindingRequest(random)
            random.withUnsafeBytes { raw in
                if let base = raw.baseAddress { _ = STUNMessage.looksLikeSTUN(base, length: raw.count) }
            }
        }
    }

    @Test("credentials: random ones are valid ice-chars of the documented lengths and differ; the wire form round-trips")
    func credentials() throws {
        let a = ICECredentials.random(), b = ICECredentials.random()
        #expect(a != b && a.ufrag.count == 8 && a.password.count == 24)
        #expect(ICECredentials(parsing: a.description) == a)
        for bad in ["abc:0123456789012345678901", "abcd:short", "ab:cd:ef", "abcd:01234567890123456789 1", "ab-d:0123456789012345678901"] {
            #expect(ICECredentials(parsing: bad) == nil, "\(bad)")
        }
    }
}
