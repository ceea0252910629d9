/// Where one media stream now goes: the relay's gate address and the RTP port on it (RTCP is one above).
public struct MediaTarget: Hashable, Sendable {
    /// The gate address written into `c=` (and into `a=rtcp` when it names an address).
    public var address: IPAddress
    /// The relay's RTP port written into `m=`.
    public var rtpPort: UInt16

    /// Creates a target.
    public init(address: IPAddress, rtpPort: UInt16) {
        self.address = address
        self.rtpPort = rtpPort
    }
}

/// The rewritten SDP and what the `sdp_ip` select reports.
public struct RewrittenSDP: Sendable, Equatable {
    /// The new SDP text.
    public var bytes: [UInt8]
    /// The original text of the first address that was rewritten; nil when none was.
    public var firstRewrittenAddress: String?
}

/// Rewrites the tokens of a parsed SDP so that media flow through the relay. Every byte that is not
/// a rewritten token is copied as it was; the only lines added are the media-level `c=` lines that
/// keep media the relay does not carry pointed at the phone.
public enum SDPRewriter {
    /// Points each media that has a target at it: its `c=` address (a `c=` shared by several media,
    /// such as the session-level one, is rewritten once), the address type when the family changes,
    /// its `m=` port, and its `a=rtcp` port and address. Media without a target are left as they are.
    /// A `c=` of 0.0.0.0 or :: (hold) keeps its address.
    ///
    /// When the session-level `c=` is rewritten, a media without a target (not relayed: port 0, TCP,
    /// a transport the relay does not carry) that has no `c=` of its own would follow it to the
    /// relay, where nothing listens for it; it gets a copy of the original session-level `c=` line
    /// instead, so that it still reaches the phone.
    public static func rewrite(_ sdp: SessionDescription, targets: [MediaTarget?]) -> RewrittenSDP {
        precondition(targets.count == sdp.media.count, "one target (or nil) per m= line")
        var edits: [(Range<Int>, [UInt8])] = []
        var rewrittenConnections = Set<Int>()
        var firstAddress: String?

        for (media, target) in zip(sdp.media, targets) {
            guard let target else { continue }
            if let c = media.connection, !(c.address?.isUnspecified ?? false),
               rewrittenConnections.insert(c.addressRange.lowerBound).inserted {
                if firstAddress == nil { firstAddress = c.addressText }
                edits.append(contentsOf: addressEdits(c.addressTypeRange, c.addressRange, target.address, sdp.bytes))
            }
            edits.append((media.portRange, Array(String(target.rtpPort).utf8)))
            if let rtcp = media.rtcp {
                edits.append((rtcp.portRange, Array(String(target.rtpPort &+ 1).utf8)))
                if let typeRange = rtcp.addressTypeRange, let addrRange = rtcp.addressRange {
                    edits.append(contentsOf: addressEdits(typeRange, addrRange, target.address, sdp.bytes))
                }
            }
        }
        if let session = sdp.sessionConnection, rewrittenConnections.contains(session.addressRange.lowerBound) {
            for (media, target) in zip(sdp.media, targets) where target == nil && media.inheritsSessionConnection {
                edits.append(connectionInsertion(copying: session, into: media, sdp.bytes))
            }
        }
        return RewrittenSDP(bytes: apply(edits, to: sdp.bytes), firstRewrittenAddress: firstAddress)
    }

    /// Inserts the text of `connection` as a `c=` line of `media`, at the place RFC 4566 gives it,
    /// with the line ending of the line before it (the session-level line's at the end of a text
    /// whose last line has none).
    private static func connectionInsertion(
        copying connection: SessionDescription.Connection, into media: SessionDescription.Media, _ bytes: [UInt8]
    ) -> (Range<Int>, [UInt8]) {
        let at = media.connectionInsertionPoint
        let line = bytes[connection.lineRange]
        let ending = media.lineEndingBeforeInsertionPoint
        if !ending.isEmpty { return (at..<at, Array(line) + bytes[ending]) }
        return (at..<at, Array(bytes[connection.lineEnding]) + line)
    }

    private static func addressEdits(
        _ typeRange: Range<Int>, _ addressRange: Range<Int>, _ address: IPAddress, _ bytes: [UInt8]
    ) -> [(Range<Int>, [UInt8])] {
        var result: [(Range<Int>, [UInt8])] = [(addressRange, Array(address.description.utf8))]
        let type = Array(address.sdpAddressType.utf8)
        if Array(bytes[typeRange]) != type { result.append((typeRange, type)) }
        return result
    }

    /// Replaces non-overlapping ranges of `bytes`.
    static func apply(_ edits: [(Range<Int>, [UInt8])], to bytes: [UInt8]) -> [UInt8] {
        let sorted = edits.sorted { $0.0.lowerBound < $1.0.lowerBound }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16 * sorted.count)
        var cursor = 0
        for (range, replacement) in sorted {
            out.append(contentsOf: bytes[cursor..<range.lowerBound])
            out.append(contentsOf: replacement)
            cursor = range.upperBound
        }
        out.append(contentsOf: bytes[cursor...])
        return out
    }
}
