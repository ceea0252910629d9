/// The ICE username fragment and password (RFC 8839 §5.4) the relay uses on one gate's side of a
/// session when the switchboard's `ice` is `force`: the SDP that the phone on that side reads
/// carries them with the relay's own candidates, and the relay answers only connectivity checks
/// that prove the password (STUN short-term credentials, RFC 8489 §9.1).
///
/// Made afresh by alloc and update for the side the SDP goes to, so each offer/answer through the
/// relay is an ICE restart for that side (RFC 8445 §9): the phone re-checks in one round trip
/// while media keep flowing.
public struct ICECredentials: Hashable, Sendable, CustomStringConvertible {
    /// The username fragment: 8 ice-chars (RFC 8839 requires 4 to 256).
    public let ufrag: String
    /// The password: 24 ice-chars, 144 random bits (RFC 8839 requires 22 to 256 characters).
    public let password: String

    /// Wraps checked values; nil unless both are ice-char strings of allowed length
    /// (ufrag 4-32, password 22-64 here: what this relay makes, with room for others' choices).
    public init?(ufrag: String, password: String) {
        guard (4...32).contains(ufrag.utf8.count), (22...64).contains(password.utf8.count),
              ICECredentials.isICEChars(ufrag), ICECredentials.isICEChars(password)
        else { return nil }
        self.ufrag = ufrag
        self.password = password
    }

    /// Fresh credentials from the system's generator (getrandom).
    public static func random() -> ICECredentials {
        var generator = SystemRandomNumberGenerator()
        func chars(_ n: Int) -> String {
            String(decoding: (0..<n).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] }, as: UTF8.self)
        }
        return ICECredentials(ufrag: chars(8), password: chars(24))!
    }

    /// The wire form in control requests: `UFRAG:PASSWORD` (ice-chars contain no `:`).
    public var description: String { "\(ufrag):\(password)" }

    /// Reads `UFRAG:PASSWORD`.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        self.init(ufrag: String(parts[0]), password: String(parts[1]))
    }

    /// ice-char = ALPHA / DIGIT / "+" / "/" (RFC 8839 §5.4).
    static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func isICEChars(_ text: String) -> Bool {
        text.utf8.allSatisfy { c in
            (65...90).contains(c) || (97...122).contains(c) || (48...57).contains(c) || c == 43 || c == 47
        }
    }
}
