import IPTRTPProxyCore
import RTPRelay

/// How sessions look in Redis: one hash per switchboard, named after the switchboard's two gates
/// (so that several relays share one Redis and each restores exactly the sessions of the gates it
/// serves, whatever the switchboard is called), one field per live session (its id), whose value
/// is the session's journal records, one per line: the allocation with the merged request, then
/// one latch record per latched stream.
///
///     HSET iptrtpproxy:sessions:A=192.0.2.10:40000;B=198.51.100.10:40000  7  "A pub 7 1795780026 a.rtp=...\nL pub 7 1795780026 a 0 203.0.113.5:31000"
package enum RedisSessionCodec {
    /// The hash of `switchboard`'s sessions.
    package static func key(_ switchboard: Switchboard) -> String {
        let a = Endpoint(address: switchboard.gateA.address, port: switchboard.gateA.basePort)
        let b = Endpoint(address: switchboard.gateB.address, port: switchboard.gateB.basePort)
        return "iptrtpproxy:sessions:A=\(a);B=\(b)"
    }

    /// The value of one live session.
    package static func value(_ live: JournalState.Live, switchboard: String) -> String {
        var lines = [JournalRecord.allocated(switchboard: switchboard, session: live.session, request: live.request).line]
        for side in GateSide.allCases {
            for j in 0..<2 {
                if let e = live.latches[side.rawValue][j] {
                    lines.append(JournalRecord.latched(switchboard: switchboard, session: live.session, side: side, stream: j, source: e).line)
                }
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A value read back as the records of one session of `switchboard` (renamed to this relay's
    /// name for it), or why it cannot be trusted: the field must be an id of the switchboard, the
    /// first line its allocation under that id, every further line a latch of the same session.
    package static func records(field: [UInt8], value: [UInt8], switchboard: Switchboard) -> Result<[JournalRecord], SkippedEntry> {
        // The id's own decimal text, as the writer puts it: `Int("+7")`, `Int("07")` and
        // `Int("-0")` parse too, and would let a field the relay never wrote stand for a session
        // (a second entry for the same id, one of them restored at random).
        guard field.count <= 5, !field.isEmpty, field.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              field.count == 1 || field[0] != UInt8(ascii: "0"),
              let id = Int(String(decoding: field, as: UTF8.self)), id < switchboard.maxSessions else {
            return .failure(SkippedEntry("field '\(printable(field))' is not a session id of switchboard '\(switchboard.name)' (0-\(switchboard.maxSessions - 1))"))
        }
        guard value.count <= 4096, value.allSatisfy({ $0 == 10 || ($0 >= 0x20 && $0 < 0x7f) }) else {
            return .failure(SkippedEntry("session \(id): the value is not a record text"))
        }
        let lines = String(decoding: value, as: UTF8.self).split(separator: "\n")
        guard let first = lines.first, let allocation = JournalRecord(line: first),
              case .allocated(_, let handle, let request) = allocation, handle.id == id else {
            return .failure(SkippedEntry("session \(id): the first line is not its allocation"))
        }
        var records: [JournalRecord] = [.allocated(switchboard: switchboard.name, session: handle, request: request)]
        for line in lines.dropFirst() {
            guard let r = JournalRecord(line: line), case .latched(_, let h, let side, let stream, let source) = r, h == handle else {
                return .failure(SkippedEntry("session \(id): line '\(line.prefix(60))' is not a latch of it"))
            }
            records.append(.latched(switchboard: switchboard.name, session: handle, side: side, stream: stream, source: source))
        }
        return .success(records)
    }

    /// Why an entry read from Redis is skipped.
    package struct SkippedEntry: Error, CustomStringConvertible {
        package var description: String
        init(_ description: String) { self.description = description }
    }

    private static func printable(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(40).map { $0 >= 0x20 && $0 < 0x7f ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
    }
}
