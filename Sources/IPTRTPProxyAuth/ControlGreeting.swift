import IPTRTPProxyCore

/// The first line of every control connection, sent by the relay:
/// `iptrtp/2 - hello SERVER-NONCE auth=required|none`.
public struct ControlGreeting: Hashable, Sendable {
    /// The relay's nonce for this connection.
    public var serverNonce: String
    /// The client must authenticate before anything else (TCP and TLS listeners).
    public var authRequired: Bool

    /// Creates a greeting.
    public init(serverNonce: String, authRequired: Bool) {
        self.serverNonce = serverNonce
        self.authRequired = authRequired
    }

    /// The line, without its newline.
    public var line: String {
        "\(ControlProtocol.version) - hello \(serverNonce) auth=\(authRequired ? "required" : "none")"
    }

    /// Reads a greeting; throws `MediaPlaneError` naming what was expected.
    public init(parsing line: [UInt8]) throws {
        var text = String(decoding: line, as: UTF8.self)
        if text.hasSuffix("\r") { text.removeLast() }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count == 5, words[0] == ControlProtocol.version, words[1] == "-", words[2] == "hello",
              ControlChallenge.isWellFormed(String(words[3])), words[4] == "auth=required" || words[4] == "auth=none"
        else {
            let shown = text.prefix(80)
            if words.first.map({ $0.hasPrefix("iptrtp/") && $0 != ControlProtocol.version }) == true {
                throw MediaPlaneError("the relay speaks \(words[0]), this client \(ControlProtocol.version): upgrade the older side")
            }
            throw MediaPlaneError("expected the relay's greeting '\(ControlProtocol.version) - hello NONCE auth=...', got '\(shown)'")
        }
        serverNonce = String(words[3])
        authRequired = words[4] == "auth=required"
    }
}
