/// A parsed SDP body: the positions of the tokens the relay rewrites, and what the media say.
///
/// The parser only records byte ranges into `bytes`; the rewriter replaces those ranges and copies
/// every other byte as it was, so line endings and unknown lines survive untouched.
public struct SessionDescription: Sendable {
    /// The SDP text, as received.
    public let bytes: [UInt8]
    /// The session-level connection (`c=` before the first `m=`), when there is exactly one valid one.
    public let sessionConnection: Connection?
    /// The media descriptions, one per `m=` line, in order.
    public let media: [Media]
    /// The session-level ICE attribute lines (`a=ice-ufrag`, `a=ice-pwd`, `a=ice-options`,
    /// `a=ice-lite`, ...), each with its line ending.
    public let sessionICELines: [Range<Int>]

    /// Creates a description (the parser does).
    public init(bytes: [UInt8], sessionConnection: Connection?, media: [Media], sessionICELines: [Range<Int>] = []) {
        self.bytes = bytes
        self.sessionConnection = sessionConnection
        self.media = media
        self.sessionICELines = sessionICELines
    }

    /// A `c=` line: where its tokens are, and the address it names.
    public struct Connection: Sendable, Hashable {
        /// The 1-based line number, for messages.
        public let line: Int
        /// The byte range of the whole line (`c=` up to, not including, its line ending).
        public let lineRange: Range<Int>
        /// The byte range of the line's ending (CRLF, LF or CR); empty on a last line without one.
        public let lineEnding: Range<Int>
        /// The byte range of the address-type token (`IP4` / `IP6`).
        public let addressTypeRange: Range<Int>
        /// The byte range of the address token.
        public let addressRange: Range<Int>
        /// The address token as written (a dotted quad, IPv6 text, or a host name).
        public let addressText: String
        /// The numeric address; nil for a host name (the original's value 0: media stay active).
        public let address: IPAddress?
    }

    /// An `a=rtcp:PORT [IN IP4 ADDR]` attribute (RFC 3605).
    public struct RTCPAttribute: Sendable, Hashable {
        /// Byte range of the port token.
        public let portRange: Range<Int>
        /// The port as written.
        public let port: UInt16
        /// Byte range of the address-type token, when the attribute names an address.
        public let addressTypeRange: Range<Int>?
        /// Byte range of the address token, when the attribute names an address.
        public let addressRange: Range<Int>?
        /// The numeric address the attribute names; nil when it names none (the media's `c=`
        /// address applies) or one that cannot be parsed (`addressRange` is then set).
        public let address: IPAddress?
    }

    /// One `m=` section.
    public struct Media: Sendable, Hashable {
        /// The 1-based line number of the `m=` line.
        public let line: Int
        /// The media type token (`audio`, `video`, ...).
        public let type: String
        /// Byte range of the port token (without any `/count` suffix).
        public let portRange: Range<Int>
        /// The port; 0 disables the stream.
        public let port: UInt16
        /// The transport token as written.
        public let transport: String
        /// The media-level `c=`, when there is exactly one valid one.
        public let ownConnection: Connection?
        /// The `a=rtcp` attribute, when present and valid.
        public let rtcp: RTCPAttribute?
        /// True when the media has no `c=` line of its own, so that it takes the session level's.
        public let inheritsSessionConnection: Bool
        /// Where a media-level `c=` line would go (RFC 4566 §5: after the `m=` line and its `i=`
        /// lines, before `b=`, `k=` and `a=`): the byte offset just after that line's ending.
        public let connectionInsertionPoint: Int
        /// The line ending of the line before `connectionInsertionPoint`; empty when that line ends
        /// the text without one.
        public let lineEndingBeforeInsertionPoint: Range<Int>
        /// True when the relay handles this stream: nonzero port, a UDP transport the relay forwards,
        /// and an address from a media-level `c=` or inherited from the session level.
        public let isActive: Bool
        /// The connection that gives this media its address: its own, or the session level's.
        public let connection: Connection?
        /// The media's ICE attribute lines (`a=candidate`, `a=end-of-candidates`, `a=ice-ufrag`,
        /// `a=ice-pwd`, `a=remote-candidates`, ...), each with its line ending.
        public var iceLines: [Range<Int>] = []
        /// Where the `m=` line starts.
        public var lineStart = 0
        /// Where the media's section ends: the start of the next `m=` line, or the end of the text.
        public var sectionEnd = 0
        /// `a=rtcp-mux-only` (RFC 8858): RTP and RTCP on one port, no RTCP candidate.
        public var rtcpMuxOnly = false
        /// A trickle ICE offer or answer without candidates yet (RFC 8840): port 9 at 0.0.0.0 or ::
        /// with ICE credentials. Not hold: the phone's address comes from its connectivity checks
        /// or its packets, so `endpoint` is nil (the relay learns it from the signalling host) and
        /// the rewritten SDP points the other side at the relay's address.
        public var awaitsCandidates = false

        /// The address the client receives this stream on (nil for a host name, an inactive media,
        /// or one that awaits its candidates).
        public var endpoint: Endpoint? {
            guard isActive, !awaitsCandidates, let address = connection?.address else { return nil }
            return Endpoint(address: address, port: port)
        }

        /// Where the client receives this stream's RTCP: the port of `a=rtcp` (RFC 3605) at the
        /// address that attribute names, else at the media's address; without `a=rtcp`, the RTP
        /// port + 1 (RFC 3550 §11). On hold (`c=` 0.0.0.0 or ::) only the port is taken: RTCP is held
        /// with RTP. `a=rtcp-mux` changes nothing here: an answerer that declines
        /// multiplexing still sends RTCP to this address, and one that accepts sends it to the RTP
        /// port, which the relay's RTP port forwards like any other packet. Nil when `endpoint` is,
        /// or when `a=rtcp` names an address that is not numeric or not of the RTP address's family
        /// (the relay talks to a side in one family; RTCP is then latched from the signalling host
        /// only, like media whose `c=` cannot be parsed).
        public var rtcpEndpoint: Endpoint? {
            guard let rtp = endpoint else { return nil }
            guard let rtcp else { return Endpoint(address: rtp.address, port: rtp.port &+ 1) }
            // Hold (`c=` 0.0.0.0 or ::) holds RTCP too, whatever address `a=rtcp` names.
            if rtcp.addressRange != nil && !rtp.address.isUnspecified {
                guard let address = rtcp.address, address.sdpAddressType == rtp.address.sdpAddressType else { return nil }
                return Endpoint(address: address, port: rtcp.port)
            }
            return Endpoint(address: rtp.address, port: rtcp.port)
        }
    }
}

/// A malformed SDP: the reason, with the line it was found on.
public struct SDPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// One line for the operator, e.g. `SDP line 4: c= before v=`.
    public let message: String

    init(line: Int, _ what: String) { message = "SDP line \(line): \(what)" }
    init(_ what: String) { message = "SDP: \(what)" }

    /// The message.
    public var description: String { message }
}
