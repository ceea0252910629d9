/// Parses SDP the way the original module did (spec §3), with the fixes its documentation intended:
/// a media-level `c=` no longer activates a media with port 0 or a transport the relay does not
/// forward, `IN IP6` is understood, and `a=rtcp` is recorded so that it can be rewritten.
public enum SDPParser {
    /// The most `m=` lines accepted; the original stopped at 20.
    public static let maxMedia = 64

    /// Transports whose packets are plain UDP datagrams that the relay can forward (compared
    /// case-insensitively). The first six are the original's list; the DTLS-SRTP profiles of
    /// RFC 5764 are UDP too.
    public static let relayedTransports: Set<String> = [
        "rtp/avp", "rtp/savp", "rtp/avpf", "rtp/savpf", "udp", "udptl",
        "udp/tls/rtp/savp", "udp/tls/rtp/savpf",
    ]

    /// Parses `bytes`. Throws `SDPError` naming the line for the errors the original rejected:
    /// a second `v=`, `c=`/`m=` before `v=`, too many `m=` lines, and a malformed `m=` port.
    public static func parse(_ bytes: [UInt8]) throws -> SessionDescription {
        var sawVersion = false
        var sessionConnection: SessionDescription.Connection?
        var sessionConnectionCount = 0
        var pending: [PendingMedia] = []
        var sessionICELines: [Range<Int>] = []
        var sessionHasICECredentials = false
        var lineNumber = 0
        // True while the lines read since the last m= are that m= and its i= lines.
        var inMediaHeader = false

        var start = 0
        let n = bytes.count
        while start < n {
            var end = start
            while end < n && bytes[end] != 0x0D && bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            let line = start..<end
            // One line ending: CRLF, LF or a lone CR.
            if end < n && bytes[end] == 0x0D { end += 1 }
            if end < n && bytes[end] == 0x0A { end += 1 }
            start = end
            let isInformation = line.count >= 2 && bytes[line.lowerBound] == UInt8(ascii: "i")
                && bytes[line.lowerBound + 1] == UInt8(ascii: "=")
            if inMediaHeader && isInformation {
                pending[pending.count - 1].header = line.upperBound..<end
            } else {
                inMediaHeader = false
            }
            // Only lines of more than two characters with '=' second count.
            guard line.count > 2, bytes[line.lowerBound + 1] == UInt8(ascii: "=") else { continue }
            let kind = bytes[line.lowerBound]
            let value = (line.lowerBound + 2)..<line.upperBound

            switch kind {
            case UInt8(ascii: "v"):
                if sawVersion { throw SDPError(line: lineNumber, "a second v= line") }
                sawVersion = true
            case UInt8(ascii: "c"):
                guard sawVersion else { throw SDPError(line: lineNumber, "c= before v=") }
                let connection = parseConnection(bytes, value, whole: line, ending: line.upperBound..<end, line: lineNumber)
                if pending.isEmpty {
                    sessionConnectionCount += 1
                    // A second session-level c= clears the session address.
                    sessionConnection = sessionConnectionCount == 1 ? connection : nil
                } else {
                    pending[pending.count - 1].connectionCount += 1
                    pending[pending.count - 1].connection = connection
                }
            case UInt8(ascii: "m"):
                guard sawVersion else { throw SDPError(line: lineNumber, "m= before v=") }
                guard pending.count < maxMedia else {
                    throw SDPError(line: lineNumber, "more than \(maxMedia) m= lines")
                }
                var media = try parseMediaLine(bytes, value, line: lineNumber)
                media.header = line.upperBound..<end
                media.lineStart = line.lowerBound
                if !pending.isEmpty { pending[pending.count - 1].sectionEnd = line.lowerBound }
                pending.append(media)
                inMediaHeader = true
            case UInt8(ascii: "a"):
                if !pending.isEmpty, let rtcp = parseRTCPAttribute(bytes, value) {
                    pending[pending.count - 1].rtcp = rtcp
                }
                if isICEAttribute(bytes, value) {
                    // The whole line with its ending, so that removing it leaves no blank line.
                    if pending.isEmpty { sessionICELines.append(line.lowerBound..<end) } else { pending[pending.count - 1].iceLines.append(line.lowerBound..<end) }
                    if value.count > 10 && equals(bytes, value.lowerBound..<(value.lowerBound + 10), "ice-ufrag:") {
                        if pending.isEmpty { sessionHasICECredentials = true } else { pending[pending.count - 1].hasICECredentials = true }
                    }
                }
                if !pending.isEmpty && equals(bytes, value, "rtcp-mux-only") { pending[pending.count - 1].rtcpMuxOnly = true }
            default:
                break
            }
        }

        if !pending.isEmpty { pending[pending.count - 1].sectionEnd = n }
        let media = pending.map { p -> SessionDescription.Media in
            let own = p.connectionCount == 1 ? p.connection : nil
            let connection = p.connectionCount == 0 ? sessionConnection : own
            let active = p.port != 0 && p.relayedTransport && connection != nil
            var m = SessionDescription.Media(
                line: p.line, type: p.type, portRange: p.portRange, port: p.port,
                transport: p.transport, ownConnection: own, rtcp: p.rtcp,
                inheritsSessionConnection: p.connectionCount == 0,
                connectionInsertionPoint: p.header.upperBound, lineEndingBeforeInsertionPoint: p.header,
                isActive: active, connection: active ? connection : nil)
            m.iceLines = p.iceLines
            m.lineStart = p.lineStart
            m.sectionEnd = p.sectionEnd
            m.rtcpMuxOnly = p.rtcpMuxOnly
            // Trickle ICE (RFC 8840 §4.3.1): an agent that has no candidate yet offers the port 9
            // at 0.0.0.0 or ::, with its ICE credentials. That is not hold: the address comes later.
            m.awaitsCandidates = active && p.port == 9 && (connection?.address?.isUnspecified ?? false)
                && (p.hasICECredentials || sessionHasICECredentials)
            return m
        }
        return SessionDescription(bytes: bytes, sessionConnection: sessionConnection, media: media, sessionICELines: sessionICELines)
    }

    struct PendingMedia {
        var line: Int
        var type: String
        var portRange: Range<Int>
        var port: UInt16
        var transport: String
        var relayedTransport: Bool
        var connection: SessionDescription.Connection?
        var connectionCount = 0
        var rtcp: SessionDescription.RTCPAttribute?
        /// The line ending of the m= line, or of the last i= line right after it.
        var header: Range<Int> = 0..<0
        var iceLines: [Range<Int>] = []
        var hasICECredentials = false
        var rtcpMuxOnly = false
        var lineStart = 0
        var sectionEnd = 0
    }

    /// The attribute names of ICE (RFC 8839) and trickle ICE (RFC 8840).
    static let iceAttributes: Set<String> = [
        "candidate", "remote-candidates", "end-of-candidates", "ice-ufrag", "ice-pwd", "ice-options",
        "ice-lite", "ice-mismatch", "ice-pacing",
    ]

    /// True for an `a=` value whose attribute name (up to `:` or the end) is one of ICE's.
    static func isICEAttribute(_ bytes: [UInt8], _ value: Range<Int>) -> Bool {
        var end = value.lowerBound
        while end < value.upperBound && bytes[end] != UInt8(ascii: ":") { end += 1 }
        guard end - value.lowerBound <= 20 else { return false }
        return iceAttributes.contains(text(bytes, value.lowerBound..<end))
    }

    /// Splits `range` of `bytes` into space-separated tokens (runs of non-blank bytes).
    static func tokens(_ bytes: [UInt8], _ range: Range<Int>) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var i = range.lowerBound
        while i < range.upperBound {
            while i < range.upperBound && (bytes[i] == 0x20 || bytes[i] == 0x09) { i += 1 }
            let s = i
            while i < range.upperBound && bytes[i] != 0x20 && bytes[i] != 0x09 { i += 1 }
            if i > s { result.append(s..<i) }
        }
        return result
    }

    static func text(_ bytes: [UInt8], _ range: Range<Int>) -> String {
        String(decoding: bytes[range], as: UTF8.self)
    }

    static func equals(_ bytes: [UInt8], _ range: Range<Int>, _ literal: StaticString) -> Bool {
        let lit = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        guard range.count == lit.count else { return false }
        var j = 0
        for i in range {
            if bytes[i] != lit[j] { return false }
            j += 1
        }
        return true
    }

    /// `c=IN IP4 <addr>` or `c=IN IP6 <addr>`, exactly (case-sensitive, as the original); a `/`
    /// (multicast TTL or count) makes it invalid. Invalid lines yield nil. `whole` is the line
    /// without its ending, `ending` the ending.
    static func parseConnection(
        _ bytes: [UInt8], _ value: Range<Int>, whole: Range<Int>, ending: Range<Int>, line: Int
    ) -> SessionDescription.Connection? {
        let t = tokens(bytes, value)
        guard t.count == 3, equals(bytes, t[0], "IN") else { return nil }
        let isV4 = equals(bytes, t[1], "IP4")
        guard isV4 || equals(bytes, t[1], "IP6") else { return nil }
        let addr = t[2]
        guard !bytes[addr].contains(UInt8(ascii: "/")) else { return nil }
        let parsed = IPAddress(utf8: bytes[addr])
        // An address of the other family than its type token is malformed; a host name is allowed.
        if let parsed {
            switch (parsed, isV4) {
            case (.v4, true), (.v6, false): break
            default: return nil
            }
        }
        return SessionDescription.Connection(
            line: line, lineRange: whole, lineEnding: ending, addressTypeRange: t[1], addressRange: addr,
            addressText: text(bytes, addr), address: parsed)
    }

    static func parseMediaLine(_ bytes: [UInt8], _ value: Range<Int>, line: Int) throws -> PendingMedia {
        let t = tokens(bytes, value)
        guard t.count >= 3 else { throw SDPError(line: line, "m= needs media, port and transport") }
        // The port token may carry "/count"; only the port is rewritten.
        var portEnd = t[1].lowerBound
        while portEnd < t[1].upperBound && bytes[portEnd] != UInt8(ascii: "/") { portEnd += 1 }
        let portRange = t[1].lowerBound..<portEnd
        guard let port = parsePort(bytes, portRange) else {
            throw SDPError(line: line, "m= port '\(text(bytes, t[1]))' is not a port number")
        }
        return PendingMedia(
            line: line, type: text(bytes, t[0]), portRange: portRange, port: port,
            transport: text(bytes, t[2]), relayedTransport: isRelayedTransport(bytes, t[2]))
    }

    /// `relayedTransports` as bytes, for a comparison that allocates nothing per `m=` line.
    private static let relayedTransportBytes: [[UInt8]] = relayedTransports.map { Array($0.utf8) }

    /// True when the token names a transport in `relayedTransports`, ignoring ASCII case.
    static func isRelayedTransport(_ bytes: [UInt8], _ token: Range<Int>) -> Bool {
        relayedTransportBytes.contains { candidate in
            candidate.count == token.count && zip(candidate, bytes[token]).allSatisfy { c, b in
                c == (b >= 65 && b <= 90 ? b + 32 : b)
            }
        }
    }

    /// Decimal 0–65535; nil for anything else (an empty token included).
    static func parsePort(_ bytes: [UInt8], _ range: Range<Int>) -> UInt16? {
        guard !range.isEmpty, range.count <= 5 else { return nil }
        var v = 0
        for i in range {
            let c = bytes[i]
            guard c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9") else { return nil }
            v = v * 10 + Int(c - UInt8(ascii: "0"))
        }
        return v <= 65535 ? UInt16(v) : nil
    }

    /// `rtcp:PORT` or `rtcp:PORT IN IP4 ADDR` (RFC 3605); anything else is ignored.
    static func parseRTCPAttribute(_ bytes: [UInt8], _ value: Range<Int>) -> SessionDescription.RTCPAttribute? {
        let prefix: StaticString = "rtcp:"
        let plen = prefix.utf8CodeUnitCount
        guard value.count > plen, equals(bytes, value.lowerBound..<(value.lowerBound + plen), prefix) else { return nil }
        let t = tokens(bytes, (value.lowerBound + plen)..<value.upperBound)
        guard let first = t.first, let port = parsePort(bytes, first) else { return nil }
        if t.count == 4, equals(bytes, t[1], "IN"), equals(bytes, t[2], "IP4") || equals(bytes, t[2], "IP6") {
            return .init(portRange: first, port: port, addressTypeRange: t[2], addressRange: t[3],
                         address: IPAddress(utf8: bytes[t[3]]))
        }
        guard t.count == 1 else { return nil }
        return .init(portRange: first, port: port, addressTypeRange: nil, addressRange: nil, address: nil)
    }
}
