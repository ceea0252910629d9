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

/// One change of a text, in the coordinates of the ORIGINAL text: `length` bytes from `offset` are
/// replaced by `replacement` (an insertion has length 0). A host that changes a message token by
/// token (Kamailio's body lumps) applies these instead of replacing the whole body.
public struct BodyEdit: Sendable, Hashable, CustomStringConvertible {
    /// Where the replaced bytes start in the original text.
    public var offset: Int
    /// How many bytes of the original are replaced; 0 for an insertion.
    public var length: Int
    /// The new bytes.
    public var replacement: [UInt8]

    /// Creates an edit.
    public init(offset: Int, length: Int, replacement: [UInt8]) {
        self.offset = offset
        self.length = length
        self.replacement = replacement
    }

    /// The replaced bytes of the original.
    public var range: Range<Int> { offset..<(offset + length) }

    public var description: String {
        "\(offset)+\(length)=\"\(String(decoding: replacement, as: UTF8.self))\""
    }

    /// The same edit in the coordinates of a text that holds the edited one at `base`.
    public func shifted(by base: Int) -> BodyEdit {
        BodyEdit(offset: offset + base, length: length, replacement: replacement)
    }

    /// Sorts edits in increasing offset order; at the same offset an insertion comes first.
    public static func ordered(_ edits: [BodyEdit]) -> [BodyEdit] {
        edits.sorted { ($0.offset, $0.length == 0 ? 0 : 1) < ($1.offset, $1.length == 0 ? 0 : 1) }
    }

    /// True when no two edits touch the same original byte, and no insertion falls strictly inside
    /// a replaced range: then applying them in any order gives the same text.
    public static func areDisjoint(_ edits: [BodyEdit]) -> Bool {
        let sorted = ordered(edits)
        for (a, b) in zip(sorted, sorted.dropFirst()) {
            if a.offset + a.length > b.offset { return false }
        }
        return true
    }

    /// `bytes` with the (disjoint) edits applied.
    public static func apply(_ edits: [BodyEdit], to bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 16 * edits.count)
        var cursor = 0
        for edit in ordered(edits) {
            out.append(contentsOf: bytes[cursor..<edit.offset])
            out.append(contentsOf: edit.replacement)
            cursor = edit.offset + edit.length
        }
        out.append(contentsOf: bytes[cursor...])
        return out
    }
}

/// The rewritten SDP and what the `sdp_ip` select reports.
public struct RewrittenSDP: Sendable, Equatable {
    /// The new SDP text.
    public var bytes: [UInt8]
    /// The rewrite as edits of the original SDP text (each rewritten token, each inserted `c=` line),
    /// in increasing offset order: `BodyEdit.apply(edits, to: original) == bytes`.
    public var edits: [BodyEdit] = []
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
    ///
    /// With `removingICE`, the ICE attributes of every relayed media go (its candidates would
    /// send the phones' ICE around the relay, and name their LAN addresses), and so do the
    /// session-level ones when every media that had ICE lines or an address is relayed.
    ///
    /// With `forcingICE` (the switchboard's `ice=force`), the ICE lines go as with `removingICE`
    /// and each relayed media gets the relay's own instead, at the end of its section: the
    /// credentials, one host candidate per component (the gate's address, RTP port and, unless
    /// `a=rtcp-mux-only`, RTCP port) and `a=end-of-candidates`; the session says `a=ice-lite`
    /// (RFC 8445 §2.5: the relay answers checks, it sends none).
    ///
    /// A media that awaits trickled candidates (port 9 at 0.0.0.0 or ::, RFC 8840) is not hold:
    /// its `c=` is pointed at the relay like any other.
    public static func rewrite(
        _ sdp: SessionDescription, targets: [MediaTarget?], removingICE: Bool = false, forcingICE credentials: ICECredentials? = nil
    ) -> RewrittenSDP {
        precondition(targets.count == sdp.media.count, "one target (or nil) per m= line")
        var edits: [(Range<Int>, [UInt8])] = []
        if removingICE || credentials != nil {
            var removed: [Range<Int>] = []
            for (media, target) in zip(sdp.media, targets) where target != nil { removed += media.iceLines }
            let unrelayedUsesICE = zip(sdp.media, targets).contains { $0.1 == nil && $0.0.port != 0 }
            if !unrelayedUsesICE && targets.contains(where: { $0 != nil }) { removed += sdp.sessionICELines }
            // Adjacent lines (a media's candidates) go as one edit: a host puts one change per edit.
            for r in removed.sorted(by: { $0.lowerBound < $1.lowerBound }) {
                if let last = edits.last, last.1.isEmpty, last.0.upperBound == r.lowerBound {
                    edits[edits.count - 1].0 = last.0.lowerBound..<r.upperBound
                } else {
                    edits.append((r, []))
                }
            }
        }
        var rewrittenConnections = Set<Int>()
        var firstAddress: String?

        for (media, target) in zip(sdp.media, targets) {
            guard let target else { continue }
            if let c = media.connection, !(c.address?.isUnspecified ?? false) || media.awaitsCandidates,
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
        if let credentials {
            edits += relayCandidates(sdp, targets: targets, credentials: credentials)
        }
        let ordered = BodyEdit.ordered(edits.map { BodyEdit(offset: $0.0.lowerBound, length: $0.0.count, replacement: $0.1) })
        return RewrittenSDP(bytes: BodyEdit.apply(ordered, to: sdp.bytes), edits: ordered, firstRewrittenAddress: firstAddress)
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

    /// The relay's ICE lines: `a=ice-lite` before the first `m=` line, and credentials, host
    /// candidates and `a=end-of-candidates` at the end of each relayed media's section.
    private static func relayCandidates(
        _ sdp: SessionDescription, targets: [MediaTarget?], credentials: ICECredentials
    ) -> [(Range<Int>, [UInt8])] {
        guard let first = sdp.media.first, targets.contains(where: { $0 != nil }) else { return [] }
        let bytes = sdp.bytes
        // The line ending the SDP uses (that of the first m= line), CRLF if it has none.
        let ending: [UInt8] = first.lineEndingBeforeInsertionPoint.isEmpty ? [13, 10] : Array(bytes[first.lineEndingBeforeInsertionPoint])
        var edits: [(Range<Int>, [UInt8])] = [(first.lineStart..<first.lineStart, Array("a=ice-lite".utf8) + ending)]
        for (media, target) in zip(sdp.media, targets) {
            guard let target else { continue }
            var lines = ["a=ice-ufrag:\(credentials.ufrag)", "a=ice-pwd:\(credentials.password)",
                         "a=candidate:1 1 UDP 2130706431 \(target.address) \(target.rtpPort) typ host"]
            if !media.rtcpMuxOnly {
                lines.append("a=candidate:1 2 UDP 2130706430 \(target.address) \(target.rtpPort &+ 1) typ host")
            }
            lines.append("a=end-of-candidates")
            var text: [UInt8] = []
            let at = media.sectionEnd
            // A last line without its ending gets one first.
            if at > 0 && bytes[at - 1] != 10 && bytes[at - 1] != 13 { text += ending }
            for line in lines { text += Array(line.utf8) + ending }
            edits.append((at..<at, text))
        }
        return edits
    }

    private static func addressEdits(
        _ typeRange: Range<Int>, _ addressRange: Range<Int>, _ address: IPAddress, _ bytes: [UInt8]
    ) -> [(Range<Int>, [UInt8])] {
        var result: [(Range<Int>, [UInt8])] = [(addressRange, Array(address.description.utf8))]
        let type = Array(address.sdpAddressType.utf8)
        if Array(bytes[typeRange]) != type { result.append((typeRange, type)) }
        return result
    }
}
