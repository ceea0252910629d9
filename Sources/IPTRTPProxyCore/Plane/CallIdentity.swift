/// The SIP call a session belongs to, as the proxy saw it: the Call-ID and the From tag of the
/// message whose SDP allocated it. Carried with alloc (optional control fields `call-id` and
/// `from-tag`) so that `list`, the RPC and the relay's log lines name the call an operator looks
/// for. Informational only: the relay never acts on it.
public struct CallIdentity: Hashable, Sendable {
    /// The Call-ID header's value.
    public var callID: String
    /// The From header's tag parameter, when there is one.
    public var fromTag: String?

    /// Longest value kept (a Call-ID is usually 20-60 characters).
    public static let maxLength = 128

    /// Wraps values that are already tokens (`token(_:)`); nil when the Call-ID is not.
    public init?(callID: String, fromTag: String? = nil) {
        guard CallIdentity.isToken(callID), fromTag.map(CallIdentity.isToken) ?? true else { return nil }
        self.callID = callID
        self.fromTag = fromTag
    }

    /// A header value made fit for the control protocol: printable ASCII without spaces (what
    /// RFC 3261's `word` and `token` allow), at most `maxLength` characters; other bytes are
    /// dropped. Nil when nothing is left.
    public static func token(_ text: String) -> String? {
        let kept = text.utf8.filter { $0 > 0x20 && $0 < 0x7F }.prefix(maxLength)
        return kept.isEmpty ? nil : String(decoding: kept, as: UTF8.self)
    }

    /// True for 1-`maxLength` characters of printable ASCII without spaces.
    public static func isToken(_ text: String) -> Bool {
        (1...maxLength).contains(text.utf8.count) && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F }
    }
}
