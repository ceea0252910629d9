/// The value of `@iptrtpproxy.session_ids`: a switchboard name, the media host that holds the
/// sessions when the proxy has several, and one entry per `m=` line: `pub:7/1234,,7/1234`, or
/// `pub@m2:7/1234,,7/1234` for host `m2`. An entry is empty for a media without a session, and media
/// that share an address and port repeat the same id. The string travels through the SIP dialog
/// (Record-Route cookie, AVPs), so it is the whole state the module needs to find the host and
/// update or delete a call's sessions there.
public struct SessionIDList: Hashable, Sendable, CustomStringConvertible {
    /// The switchboard the sessions live on.
    public var switchboard: String
    /// The media host (the `id` of a `relay` modparam) that holds the sessions; nil in the ids of
    /// a proxy with one relay, as the original wrote them.
    public var host: String?
    /// One entry per `m=` line: the session, or nil.
    public var entries: [SessionHandle?]

    /// Longest host id.
    public static let maxHostLength = 32

    /// Creates a list.
    public init(switchboard: String, host: String? = nil, entries: [SessionHandle?]) {
        self.switchboard = switchboard
        self.host = host
        self.entries = entries
    }

    /// `name[@host]` when there are no entries, else `name[@host]:e1,e2,...` with `id/created` or
    /// empty entries.
    public var description: String {
        let head = host.map { switchboard + "@" + $0 } ?? switchboard
        if entries.isEmpty { return head }
        return head + ":" + entries.map { $0.map { "\($0.id)/\($0.created)" } ?? "" }.joined(separator: ",")
    }

    /// True for a host id: 1-32 characters of A-Z a-z 0-9 `_` `-` `.`.
    public static func isValidHost(_ host: String) -> Bool {
        !host.isEmpty && host.utf8.count <= maxHostLength && host.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c == 45 || c == 46
        }
    }

    /// Parses the grammar `switchboard_name ["@" host] [":" [entry *("," entry)]]` with
    /// `entry = [id ["/" created]]`. An id without `/created` matches any incarnation (created 0).
    /// Unlike the original, empty entries are accepted.
    public init(parsing text: String) throws {
        func fail(_ reason: String) -> SessionIDError { SessionIDError(text: text, reason: reason) }
        let trimmed = text.trimmingBlanks
        let colon = trimmed.firstIndex(of: ":")
        let head = colon.map { String(trimmed[..<$0]) } ?? trimmed
        var name = head
        var host: String?
        if let at = head.firstIndex(of: "@") {
            name = String(head[..<at])
            let h = String(head[head.index(after: at)...])
            guard Self.isValidHost(h) else {
                throw fail("host '\(h.prefix(40))' must be 1-\(Self.maxHostLength) characters of A-Z a-z 0-9 _ - .")
            }
            host = h
        }
        guard SwitchboardConfigParser.isValidName(name) else {
            throw fail("switchboard name '\(name.prefix(40))' is not valid")
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
        self.init(switchboard: name, host: host, entries: entries)
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
