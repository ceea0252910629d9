/// The values of the `@iptrtpproxy.*` selects for one script run. The host resets them before every
/// request and reply script run; nil means "no value". `sdp_ip` always has one, the empty string
/// until alloc or update rewrites an address (spec §4, as the original).
public struct SelectValues: Hashable, Sendable {
    /// `@iptrtpproxy.session_ids`, set by a successful alloc or update.
    public var sessionIDs: String?
    /// `@iptrtpproxy.sdp_ip`: the original text of the first address alloc or update rewrote; empty
    /// when none was.
    public var sdpIP: String
    /// `@iptrtpproxy.switchboard`: the switchboard `iptrtpproxy_find` matched.
    public var switchboard: String?
    /// `@iptrtpproxy.direction`: 1 when the gates matched as A→B, 0 when as B→A.
    public var direction: Int?

    /// All selects without a value, `sdp_ip` empty.
    public init(sessionIDs: String? = nil, sdpIP: String = "", switchboard: String? = nil, direction: Int? = nil) {
        self.sessionIDs = sessionIDs
        self.sdpIP = sdpIP
        self.switchboard = switchboard
        self.direction = direction
    }
}

/// What one function call did.
public struct FunctionResult: Sendable, Equatable {
    /// True for the script's 1, false for -1.
    public var succeeded: Bool
    /// The new message body when the SDP was rewritten; nil when the body stays as it was.
    public var body: [UInt8]?
    /// The same rewrite as edits of the ORIGINAL message body (body coordinates: the SDP part's
    /// offset in a multipart body added), in increasing offset order, one per rewritten token or
    /// inserted line: `BodyEdit.apply(edits, to: original) == body`. Nil exactly when `body` is.
    public var edits: [BodyEdit]?
    /// Why the function returned false: one line for the log.
    public var error: String?
    /// Problems that did not make the function fail (the original only logged them).
    public var warnings: [String]

    /// A success, with the rewritten body if any.
    public static func success(warnings: [String] = []) -> FunctionResult {
        FunctionResult(succeeded: true, body: nil, edits: nil, error: nil, warnings: warnings)
    }

    /// A success that rewrote the body: the new body and the edits that make it from the original.
    public static func success(_ rewrite: BodyRewrite?, warnings: [String] = []) -> FunctionResult {
        FunctionResult(succeeded: true, body: rewrite?.body, edits: rewrite?.edits, error: nil, warnings: warnings)
    }

    /// A failure with its reason; the message is left untouched.
    public static func failure(_ reason: String, warnings: [String] = []) -> FunctionResult {
        FunctionResult(succeeded: false, body: nil, edits: nil, error: reason, warnings: warnings)
    }

    /// The script's return value: 1 or -1, never 0.
    public var scriptValue: Int32 { succeeded ? 1 : -1 }
}

/// A rewritten message body: the whole new body, and the edits of the original body that make it.
public struct BodyRewrite: Sendable, Equatable {
    /// The new body.
    public var body: [UInt8]
    /// Edits of the original body, in increasing offset order.
    public var edits: [BodyEdit]

    /// Creates a rewrite.
    public init(body: [UInt8], edits: [BodyEdit]) {
        self.body = body
        self.edits = edits
    }
}
