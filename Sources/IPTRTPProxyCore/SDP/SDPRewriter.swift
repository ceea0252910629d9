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
/// a rewritten token is copied as it was.
public enum SDPRewriter {
    /// Points each media that has a target at it: its `c=` address (a `c=` shared by several media,
    /// such as the session-level one, is rewritten once), the address type when the family changes,
    /// its `m=` port, and its `a=rtcp` port and address. Media without a target are left as they are.
    /// A `c=` of 0.0.0.0 or :: (hold) keeps its address.
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
        return RewrittenSDP(bytes: apply(edits, to: sdp.bytes), firstRewrittenAddress: firstAddress)
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
