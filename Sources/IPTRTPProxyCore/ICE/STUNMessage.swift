/// The part of STUN (RFC 8489) an ICE-lite agent (RFC 8445 §2.5) needs: read a Binding request
/// that arrives on a relay port, and write its success response. Pure: the HMAC-SHA1 of
/// MESSAGE-INTEGRITY is passed in (the relay computes it with libcrypto), the CRC-32 of
/// FINGERPRINT is here. Reading never traps: any bytes give a request or nil.
public enum STUNMessage {
    /// The magic cookie of every RFC 5389/8489 message (bytes 4-7).
    public static let magicCookie: UInt32 = 0x2112_A442
    /// The STUN header: type, length, cookie, 96-bit transaction id.
    public static let headerLength = 20

    static let bindingRequest: UInt16 = 0x0001
    static let bindingSuccess: UInt16 = 0x0101
    static let username: UInt16 = 0x0006
    static let messageIntegrity: UInt16 = 0x0008
    static let xorMappedAddress: UInt16 = 0x0020
    static let useCandidate: UInt16 = 0x0025
    static let fingerprint: UInt16 = 0x8028
    static let fingerprintXOR: UInt32 = 0x5354_554E

    /// True when a datagram could be STUN (RFC 7983 demultiplexing: first byte 0-3, the magic
    /// cookie, a length that is a multiple of 4 and matches). Cheap enough for every packet of a
    /// leg that answers ICE; RTP (128-191) and DTLS (20-63) never pass.
    @inline(__always)
    public static func looksLikeSTUN(_ p: UnsafeRawPointer, length: Int) -> Bool {
        guard length >= headerLength, p.load(as: UInt8.self) < 4 else { return false }
        let cookie = UInt32(bigEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let bodyLength = Int(UInt16(bigEndian: p.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
        return cookie == magicCookie && bodyLength & 3 == 0 && bodyLength + headerLength == length
    }

    /// A Binding request with what an ICE-lite agent checks.
    public struct BindingRequest: Sendable, Equatable {
        /// The 12-byte transaction id, echoed in the response.
        public var transactionID: [UInt8]
        /// The USERNAME attribute's bytes (`RECEIVER-UFRAG:SENDER-UFRAG` in ICE).
        public var username: [UInt8]
        /// True when USE-CANDIDATE is present (the controlling agent nominates this pair).
        public var useCandidate: Bool
        /// The 20-byte HMAC of MESSAGE-INTEGRITY.
        public var integrity: [UInt8]
        /// The bytes MESSAGE-INTEGRITY covers: the message up to that attribute, with the header's
        /// length counting up to and including it (RFC 8489 §14.5).
        public var integrityInput: [UInt8]

        /// True when USERNAME starts with `ufrag` and a colon: the check is for this agent.
        public func isAddressed(to ufrag: String) -> Bool {
            let u = Array(ufrag.utf8)
            return username.count > u.count && username.starts(with: u) && username[u.count] == UInt8(ascii: ":")
        }
    }

    /// Reads a Binding request that carries USERNAME and MESSAGE-INTEGRITY (what an ICE check
    /// must carry), with a correct FINGERPRINT when it has one. Nil for anything else: other
    /// methods and classes, truncated or overlong attributes, a missing integrity.
    public static func parseBindingRequest(_ bytes: [UInt8]) -> BindingRequest? {
        guard bytes.count >= headerLength, bytes.count <= 1500 else { return nil }
        guard word16(bytes, 0) == bindingRequest, word32(bytes, 4) == magicCookie else { return nil }
        let length = Int(word16(bytes, 2))
        guard length & 3 == 0, length + headerLength == bytes.count else { return nil }
        var username: [UInt8]?
        var useCandidateSeen = false
        var integrity: (offset: Int, mac: [UInt8])?
        var offset = headerLength
        while offset < bytes.count {
            guard offset + 4 <= bytes.count else { return nil }
            let type = word16(bytes, offset)
            let valueLength = Int(word16(bytes, offset + 2))
            let valueStart = offset + 4
            let next = valueStart + ((valueLength + 3) & ~3)
            guard next <= bytes.count else { return nil }
            if integrity != nil {
                // After MESSAGE-INTEGRITY only FINGERPRINT may follow (RFC 8489 §14.5).
                guard type == fingerprint, valueLength == 4, next == bytes.count else { return nil }
                let expected = crc32(bytes[0..<offset]) ^ fingerprintXOR
                guard word32(bytes, valueStart) == expected else { return nil }
                break
            }
            switch type {
            case STUNMessage.username:
                guard valueLength <= 513, username == nil else { return nil }
                username = Array(bytes[valueStart..<(valueStart + valueLength)])
            case messageIntegrity:
                guard valueLength == 20 else { return nil }
                integrity = (offset, Array(bytes[valueStart..<(valueStart + 20)]))
            case STUNMessage.useCandidate:
                useCandidateSeen = true
            case fingerprint:
                // A FINGERPRINT before MESSAGE-INTEGRITY: not an ICE check.
                return nil
            default:
                break
            }
            offset = next
        }
        guard let username, let integrity else { return nil }
        var input = Array(bytes[0..<integrity.offset])
        let coveredLength = integrity.offset + 24 - headerLength
        input[2] = UInt8(truncatingIfNeeded: coveredLength >> 8)
        input[3] = UInt8(truncatingIfNeeded: coveredLength)
        return BindingRequest(
            transactionID: Array(bytes[8..<20]), username: username, useCandidate: useCandidateSeen,
            integrity: integrity.mac, integrityInput: input)
    }

    /// A Binding success response for `transactionID` telling the requester its address as the
    /// relay saw it (XOR-MAPPED-ADDRESS), with MESSAGE-INTEGRITY (`hmac` is HMAC-SHA1 keyed with
    /// the agent's password) and FINGERPRINT, as RFC 8445 §7.3.1.5 asks of a response.
    public static func bindingSuccess(
        transactionID: [UInt8], mapped: Endpoint, hmac: ([UInt8]) -> [UInt8]
    ) -> [UInt8] {
        precondition(transactionID.count == 12, "a STUN transaction id has 12 bytes")
        var out: [UInt8] = []
        out.reserveCapacity(100)
        append16(&out, bindingSuccess)
        append16(&out, 0)
        append32(&out, magicCookie)
        out += transactionID
        // XOR-MAPPED-ADDRESS (RFC 8489 §14.2).
        let port = mapped.port ^ UInt16(magicCookie >> 16)
        switch mapped.address {
        case .v4(let a):
            append16(&out, xorMappedAddress)
            append16(&out, 8)
            out += [0, 0x01]
            append16(&out, port)
            append32(&out, a ^ magicCookie)
        case .v6(let b):
            append16(&out, xorMappedAddress)
            append16(&out, 20)
            out += [0, 0x02]
            append16(&out, port)
            var cookieAndID: [UInt8] = []
            append32(&cookieAndID, magicCookie)
            cookieAndID += transactionID
            for (i, byte) in b.bytes.enumerated() { out.append(byte ^ cookieAndID[i]) }
        }
        // MESSAGE-INTEGRITY over everything before it, the length counting it.
        setLength(&out, out.count + 24 - headerLength)
        let mac = hmac(out)
        append16(&out, messageIntegrity)
        append16(&out, 20)
        out += mac.prefix(20)
        // FINGERPRINT over everything before it, the length counting it.
        setLength(&out, out.count + 8 - headerLength)
        let crc = crc32(out[...]) ^ fingerprintXOR
        append16(&out, fingerprint)
        append16(&out, 4)
        append32(&out, crc)
        return out
    }

    // MARK: Pieces

    static func word16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
    static func word32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
    static func append16(_ out: inout [UInt8], _ v: UInt16) { out += [UInt8(v >> 8), UInt8(truncatingIfNeeded: v)] }
    static func append32(_ out: inout [UInt8], _ v: UInt32) {
        out += [UInt8(v >> 24), UInt8(truncatingIfNeeded: v >> 16), UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
    }
    static func setLength(_ out: inout [UInt8], _ length: Int) {
        out[2] = UInt8(truncatingIfNeeded: length >> 8)
        out[3] = UInt8(truncatingIfNeeded: length)
    }

    /// CRC-32 (ISO 3309 / ITU-T V.42, the one of FINGERPRINT and zlib).
    public static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return crc ^ 0xFFFF_FFFF
    }

    static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }
}
