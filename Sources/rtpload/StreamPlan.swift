import Glibc
import IPTRTPProxyCore

/// An IPv4 UDP address as rtpload uses it: text form for reports, `Endpoint` for the POSIX layer.
struct UDPAddress: Hashable, CustomStringConvertible {
    var host: UInt32  // host byte order
    var port: UInt16

    /// Parses `a.b.c.d:port`.
    init?(_ text: Substring) {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        var addr = in_addr()
        guard inet_pton(AF_INET, String(text[..<colon]), &addr) == 1 else { return nil }
        self.host = UInt32(bigEndian: addr.s_addr)
        self.port = port
    }

    /// The address as the POSIX layer takes it.
    var endpoint: Endpoint { Endpoint(address: .v4(host), port: port) }

    var description: String {
        "\(host >> 24).\(host >> 16 & 0xff).\(host >> 8 & 0xff).\(host & 0xff):\(port)"
    }
}

/// One direction of RTP: sent from a local socket to an address (the relay's gate, or the sink
/// itself for the direct baseline), expected to arrive at a local sink socket.
struct StreamSpec {
    var source: UDPAddress
    var destination: UDPAddress
    var sink: UDPAddress
}

/// What to send: the streams and the local sockets they need. A socket is bound once even when it
/// is the source of one stream and the sink of another (a bidirectional call).
struct StreamPlan {
    var streams: [StreamSpec]
    /// Every local address to bind, each once.
    var localAddresses: [UDPAddress]
    /// Index into `localAddresses` of each stream's source and sink.
    var sourceSocket: [Int]
    var sinkSocket: [Int]

    struct ParseError: Error, CustomStringConvertible {
        var description: String
    }

    /// Parses one stream per line: `SOURCE DESTINATION SINK`, each `a.b.c.d:port`; `#` starts a comment.
    static func parse(_ text: String) throws -> StreamPlan {
        var streams: [StreamSpec] = []
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 3, let s = UDPAddress(fields[0]), let d = UDPAddress(fields[1]),
                  let k = UDPAddress(fields[2])
            else { throw ParseError(description: "line \(number + 1): expected SOURCE DESTINATION SINK (a.b.c.d:port each)") }
            streams.append(StreamSpec(source: s, destination: d, sink: k))
        }
        guard !streams.isEmpty else { throw ParseError(description: "no streams") }
        var index: [UDPAddress: Int] = [:]
        var locals: [UDPAddress] = []
        func socketIndex(_ a: UDPAddress) -> Int {
            if let i = index[a] { return i }
            index[a] = locals.count
            locals.append(a)
            return locals.count - 1
        }
        let sources = streams.map { socketIndex($0.source) }
        let sinks = streams.map { socketIndex($0.sink) }
        return StreamPlan(streams: streams, localAddresses: locals, sourceSocket: sources, sinkSocket: sinks)
    }
}
