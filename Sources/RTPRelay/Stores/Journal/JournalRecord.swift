import IPTRTPProxyCore

/// One line of the session journal (see `SessionJournal`). Text, one record per line, words
/// separated by spaces; the request fields are the control protocol's (`a.rtp=192.0.2.1:4000`):
///
///     A <switchboard> <id> <created> [fields]       allocated
///     U <switchboard> <id> <created> [fields]       updated (fields merge as in MediaPlane)
///     L <switchboard> <id> <created> <a|b> <0|1> <endpoint|->   a stream's latch moved
///     D <switchboard> <id> <created> <freed-at>     deleted or expired (Unix seconds)
package enum JournalRecord: Hashable, Sendable {
    case allocated(switchboard: String, session: SessionHandle, request: SessionRequest)
    case updated(switchboard: String, session: SessionHandle, request: SessionRequest)
    case latched(switchboard: String, session: SessionHandle, side: GateSide, stream: Int, source: Endpoint?)
    case freed(switchboard: String, session: SessionHandle, at: UInt32)

    /// The first line of a journal file.
    package static let header = "iptrtpproxy-journal 1"

    package var switchboard: String {
        switch self {
        case .allocated(let s, _, _), .updated(let s, _, _), .latched(let s, _, _, _, _), .freed(let s, _, _): return s
        }
    }

    package var session: SessionHandle {
        switch self {
        case .allocated(_, let h, _), .updated(_, let h, _), .latched(_, let h, _, _, _), .freed(_, let h, _): return h
        }
    }

    package var line: String {
        var bytes: [UInt8] = []
        append(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `line` (without a newline) to `out`, as bytes: the relay journals every change.
    package func append(to out: inout [UInt8]) {
        func head(_ tag: UInt8, _ s: String, _ h: SessionHandle) {
            out.append(tag)
            out.append(32)
            out.append(contentsOf: s.utf8)
            out.append(32)
            out.append(contentsOf: String(h.id).utf8)
            out.append(32)
            ControlProtocol.appendDecimal(UInt64(h.created), to: &out)
        }
        switch self {
        case .allocated(let s, let h, let r):
            head(UInt8(ascii: "A"), s, h)
            ControlProtocol.appendFields(r, to: &out)
        case .updated(let s, let h, let r):
            head(UInt8(ascii: "U"), s, h)
            ControlProtocol.appendFields(r, to: &out)
        case .latched(let s, let h, let side, let stream, let source):
            head(UInt8(ascii: "L"), s, h)
            out.append(contentsOf: " \(side.letter) \(stream) \(source?.description ?? "-")".utf8)
        case .freed(let s, let h, let at):
            head(UInt8(ascii: "D"), s, h)
            out.append(32)
            ControlProtocol.appendDecimal(UInt64(at), to: &out)
        }
    }

    /// Reads a line; nil for anything that is not a whole, valid record (a torn last line after a
    /// crash, a damaged file): such lines are skipped, never trusted.
    package init?(line: Substring) {
        let w = line.split(separator: " ").map(String.init)
        guard w.count >= 4, let id = Int(w[2]), id >= 0, let created = UInt32(w[3]) else { return nil }
        let s = w[1], h = SessionHandle(id: id, created: created)
        switch w[0] {
        case "A", "U":
            guard let r = try? ControlProtocol.decodeFields(w[4...]) else { return nil }
            self = w[0] == "A" ? .allocated(switchboard: s, session: h, request: r) : .updated(switchboard: s, session: h, request: r)
        case "L":
            guard w.count == 7, let side = w[4] == "a" ? GateSide.a : w[4] == "b" ? GateSide.b : nil,
                  let stream = Int(w[5]), stream == 0 || stream == 1 else { return nil }
            var source: Endpoint? = nil
            if w[6] != "-" {
                guard let e = ControlProtocol.parseEndpoint(w[6]) else { return nil }
                source = e
            }
            self = .latched(switchboard: s, session: h, side: side, stream: stream, source: source)
        case "D":
            guard w.count == 5, let at = UInt32(w[4]) else { return nil }
            self = .freed(switchboard: s, session: h, at: at)
        default:
            return nil
        }
    }
}

/// What replaying a journal yields: per switchboard and slot, the live session with its merged
/// request and latches, or the last freed incarnation (so that a slot keeps resting and keeps
/// its created stamp across a restart).
package struct JournalState: Sendable {
    package struct Live: Hashable, Sendable {
        package var session: SessionHandle
        package var request: SessionRequest
        /// Latched source per side (0 = A) and stream (0 = RTP).
        package var latches: [[Endpoint?]] = [[nil, nil], [nil, nil]]

        package init(session: SessionHandle, request: SessionRequest) {
            self.session = session
            self.request = request
        }
    }

    package struct Freed: Hashable, Sendable {
        var session: SessionHandle
        var at: UInt32
    }

    /// Keyed by lowercased switchboard name, then id.
    package var live: [String: [Int: Live]] = [:]
    package var freed: [String: [Int: Freed]] = [:]

    /// Nothing live, nothing freed.
    package init() {}

    /// Applies records in order. Records for an incarnation other than the slot's live one are
    /// ignored (they cannot happen in a journal the relay wrote, but a damaged file is survived).
    package init(replaying records: [JournalRecord]) {
        for record in records { apply(record) }
    }

    /// Applies one record.
    package mutating func apply(_ record: JournalRecord) {
        let key = record.switchboard.lowercased()
        let h = record.session
        switch record {
        case .allocated(_, _, let request):
            live[key, default: [:]][h.id] = Live(session: h, request: request)
            freed[key]?[h.id] = nil
        case .updated(_, _, let request):
            guard var l = live[key]?[h.id], l.session == h else { return }
            l.request = l.request.merging(request)
            // A new address re-points the stream: the old latch no longer holds.
            for side in GateSide.allCases {
                for j in 0..<2 where request[side].streams[j].address != nil { l.latches[side.rawValue][j] = nil }
            }
            live[key]![h.id] = l
        case .latched(_, _, let side, let stream, let source):
            guard var l = live[key]?[h.id], l.session == h else { return }
            l.latches[side.rawValue][stream] = source
            live[key]![h.id] = l
        case .freed(_, _, let at):
            if let l = live[key]?[h.id], l.session != h { return }
            live[key]?[h.id] = nil
            freed[key, default: [:]][h.id] = Freed(session: h, at: at)
        }
    }
}
