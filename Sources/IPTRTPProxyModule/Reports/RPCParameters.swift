import IPTRTPProxyCore

/// The parameters an RPC command was given, in order, as text: the glue reads each one with the
/// host's conversion to text, so `kamcmd iptrtpproxy.list 0 50` and JSON-RPC's `[0, 50]` arrive
/// alike. A parameter the host could not read as text (a JSON object, say) makes the whole list
/// unreadable (`readable` false).
struct RPCParameters: Equatable {
    /// The command, for messages (`iptrtpproxy.list`).
    var command: String
    /// What the command takes, for messages (`[OFFSET [LIMIT [SWITCHBOARD]]]`).
    var usage: String
    /// The parameters given.
    var texts: [String]
    /// False when the host met a parameter it could not read as text.
    var readable = true

    /// Checks that no more than `maximum` parameters came and that all were readable.
    func expectAtMost(_ maximum: Int) throws(RPCFault) {
        guard readable else {
            throw .badParameter("\(command): a parameter is neither a number nor text")
        }
        guard texts.count <= maximum else {
            throw .badParameter("\(command): at most \(maximum) parameter\(maximum == 1 ? "" : "s") (got \(texts.count)); usage: \(command) \(usage)")
        }
    }

    /// Parameter `index` as a whole number in `range`, or `defaultValue` when it was not given.
    func wholeNumber(_ index: Int, _ name: String, default defaultValue: Int, in range: ClosedRange<Int>) throws(RPCFault) -> Int {
        guard index < texts.count else { return defaultValue }
        let text = texts[index].trimmingSpaces
        guard let n = Int(text), range.contains(n) else {
            throw .badParameter("\(command): \(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not '\(text.prefix(40))'")
        }
        return n
    }

    /// Parameter `index` as a switchboard name (checked for its form only), or nil when it was not
    /// given or is `*` (every switchboard).
    func switchboard(_ index: Int) throws(RPCFault) -> String? {
        guard index < texts.count else { return nil }
        let name = texts[index].trimmingSpaces
        if name == "*" { return nil }
        // A bare switchboard name is a session-id list with neither host nor entries.
        guard let ids = try? SessionIDList(parsing: name), ids.host == nil, ids.entries.isEmpty, ids.switchboard == name else {
            throw .badParameter("\(command): '\(name.prefix(40))' is not a switchboard name")
        }
        return name
    }
}
