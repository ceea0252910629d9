import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Testing
@testable import RTPRelay

/// The headers shared-socket mode sends with: every field where RFC 791/8200/768 put it, and
/// checksums that a receiver's plain 16-bit word sum (RFC 1071, written here independently of the
/// relay's 32-bit one) finds valid, for every payload length class.
@Suite("shared sockets: IP and UDP headers of raw sends")
struct UDPDatagramHeaderTests {
    /// RFC 1071 the slow way: big-endian 16-bit words, end-around carry.
    static func onesSum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i < bytes.count {
            let high = UInt32(bytes[i]), low = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0
            sum += high << 8 | low
            sum = (sum & 0xFFFF) + (sum >> 16)
            i += 2
        }
        return UInt16(sum)
    }

    /// Writes headers for `payload` and returns the whole datagram.
    static func datagram(from source: PeerAddress, to destination: PeerAddress, payload: [UInt8]) -> [UInt8] {
        let room = UDPDatagramHeader.maximumLength
        var buffer = [UInt8](repeating: 0xEE, count: room + payload.count)
        for (i, b) in payload.enumerated() { buffer[room + i] = b }
        let header = buffer.withUnsafeMutableBytes {
            UDPDatagramHeader.write(from: source, to: destination, payload: $0.baseAddress! + room, length: payload.count)
        }
        return Array(buffer[(room - header)...])
    }

    static func peer(_ text: String, _ port: UInt16) -> PeerAddress {
        PeerAddress(Endpoint(address: IPAddress(text)!, port: port))
    }

    static func word(_ d: [UInt8], _ at: Int) -> Int { Int(d[at]) << 8 | Int(d[at + 1]) }

    @Test("IPv4: fields, header checksum and UDP checksum", arguments: [0, 1, 12, 13, 160, 172, 1199])
    func ipv4(length: Int) {
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let d = Self.datagram(from: Self.peer("192.0.2.10", 40000), to: Self.peer("198.51.100.7", 5004), payload: payload)
        #expect(d.count == 28 + length)
        #expect(d[0] == 0x45 && d[9] == 17 && d[8] == 64)
        #expect(Self.word(d, 2) == 28 + length)
        #expect(Self.word(d, 6) == 0x4000)  // DF, no fragment offset
        #expect(Array(d[12..<16]) == [192, 0, 2, 10] && Array(d[16..<20]) == [198, 51, 100, 7])
        #expect(Self.onesSum(Array(d[0..<20])) == 0xFFFF)
        #expect(Self.word(d, 20) == 40000 && Self.word(d, 22) == 5004 && Self.word(d, 24) == 8 + length)
        #expect(Self.word(d, 26) != 0)
        let pseudo = Array(d[12..<20]) + [0, 17] + [UInt8((8 + length) >> 8), UInt8((8 + length) & 0xFF)]
        #expect(Self.onesSum(pseudo + Array(d[20...])) == 0xFFFF)
        #expect(Array(d[28...]) == payload)
    }

    @Test("IPv6: fields and UDP checksum", arguments: [0, 1, 12, 13, 172])
    func ipv6(length: Int) {
        let payload = (0..<length).map { UInt8(truncatingIfNeeded: 255 &- $0 &* 7) }
        let d = Self.datagram(from: Self.peer("2001:db8::1", 41002), to: Self.peer("2001:db8:ff::9", 7078), payload: payload)
        #expect(d.count == 48 + length)
        #expect(d[0] >> 4 == 6 && d[6] == 17 && d[7] == 64)
        #expect(Self.word(d, 4) == 8 + length)
        #expect(d[8] == 0x20 && d[9] == 0x01 && d[23] == 1 && d[39] == 9)
        #expect(Self.word(d, 40) == 41002 && Self.word(d, 42) == 7078 && Self.word(d, 44) == 8 + length)
        let udpLength = 8 + length
        let pseudo = Array(d[8..<40]) + [0, 0, UInt8(udpLength >> 8), UInt8(udpLength & 0xFF), 0, 0, 0, 17]
        #expect(Self.onesSum(pseudo + Array(d[40...])) == 0xFFFF)
        #expect(Array(d[48...]) == payload)
    }

    @Test("a datagram whose checksum computes to 0 carries 0xFFFF (0 means none)")
    func zeroChecksum() {
        // Find a 2-byte payload that makes the sum come out 0, by trying the last word.
        let source = Self.peer("10.0.0.1", 1000), destination = Self.peer("10.0.0.2", 2000)
        let base = Self.datagram(from: source, to: destination, payload: [0, 0])
        let current = UInt16(base[26]) << 8 | UInt16(base[27])
        // Adding x to the data lowers the checksum by x (one's complement): choose x = checksum.
        let d = Self.datagram(from: source, to: destination, payload: [UInt8(current >> 8), UInt8(current & 0xFF)])
        #expect(Self.word(d, 26) == 0xFFFF)
    }

    @Test("families that differ write nothing")
    func mixedFamilies() {
        var buffer = [UInt8](repeating: 0, count: 64)
        let written = buffer.withUnsafeMutableBytes {
            UDPDatagramHeader.write(
                from: Self.peer("10.0.0.1", 1), to: Self.peer("2001:db8::2", 2), payload: $0.baseAddress! + 48, length: 16)
        }
        #expect(written == 0)
    }
}
