/// The value of `@iptrtpproxy.session_ids`: a switchboard name and one entry per `m=` line,
/// `pub:7/1234,,7/1234`. An entry is empty for a media without a session, and media that share
/// an address and port repeat the same id. The string travels through the SIP dialog (Record-Route
/// cookie, AVPs), so it is the whole state the module needs to update or delete a call's sessions.
public struct SessionIDList: Hashable, Sendable, CustomStringConvertible {
    /// The switchboard the sessions live on.
    public var switchboard: String
    /// One entry per `m=` line: the session, or nil.
    public var entries: [SessionHandle?]

    /// Creates a list.
    public init(switchboard: String, entries: [SessionHandle?]) {
        self.switchboard = switchboard
        self.entries = entries
    }

    /// `name` when there are no entries, else `name:e1,e2,...` with `id/created` or empty entries.
    public var description: String {
        if entries.isEmpty { return switchboard }
        return switchboard + ":" + entries.map { $0.map { "\($0.id)/\($0.created)" } ?? "" }.joined(separator: ",")
    }

    /// Parses the grammar `switchboard_name [":" [entry *("," entry)]]` with `entry = [id ["/" created]]`.
    /// An id without `/created` matches any incarnation (created 0). Unlike the original, empty
    /// entries are accepted.
    public init(parsing text: String) throws {
        func fail(_ reason: String) -> SessionIDError { SessionIDError(text: text, reason: reason) }
        let trimmed = text.trimmingBlanks
        let colon = trimmed.firstIndex(of: ":")
        let name = colon.map { String(trimmed[..<$0]) } ?? trimmed
        guard SwitchboardConfigParser.isValidName(name) else {
            throw fail("switchboard name '\(name)' is not valid")
        }
        var entries: [SessionHandle?] = []
        if let colon {
            // "pub:" is one empty entry, so that every list prints and parses back the same.
            let rest = trimmed[trimmed.index(after: colon)...]
            do {
                for raw in rest.split(separator: ",", omittingEmptySubsequences: false) {
                    let item = raw.trimmingBlanks
                    if item.isEmpty { entries.append(nil); continue }
                    let parts = item.split(separator: "/", omittingEmptySubsequences: false)
                    guard parts.count <= 2, let id = Int(parts[0]), id >= 0, id <= 65535 else {
                        throw fail("entry '\(item)' is not id/created")
                    }
                    var created: UInt32 = 0
                    if parts.count == 2 {
                        guard let c = UInt32(parts[1]) else { throw fail("entry '\(item)' has a bad created stamp") }
                        created = c
                    }
                    entries.append(SessionHandle(id: id, created: created))
                }
            }
        }
        self.init(switchboard: name, entries: entries)
    }
}

/// A session-id string that cannot be read.
public struct SessionIDError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The string as given.
    public let text: String
    /// What is wrong with it.
    public let reason: String

    /// `session ids 'TEXT': reason`.
    public var description: String { "session ids '\(text)': \(reason)" }
}
