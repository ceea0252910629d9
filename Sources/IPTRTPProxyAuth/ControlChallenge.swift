import CIPTRTPProxyCrypto
import IPTRTPProxyCore

/// The challenge of the control protocol (docs/control-protocol.md, "Authentication"): the relay
/// greets every connection with a fresh nonce; the client proves it holds the shared secret with
/// an HMAC-SHA256 over both nonces and what binds them to this connection, and the relay answers
/// with its own proof. The secret never crosses the wire, and a captured exchange is worth nothing
/// on another connection. Pure: no I/O.
public struct ControlChallenge: Sendable {
    /// The relay's nonce of this connection (64 lowercase hex digits).
    public let serverNonce: String
    /// "tcp", or "tls:" + the hex of the TLS session's exported keying material.
    public let binding: String

    /// A challenge for a new connection, with a fresh random server nonce.
    public init(binding: String) {
        self.init(serverNonce: ControlChallenge.newNonce(), binding: binding)
    }

    /// The challenge a client read from a greeting.
    public init(serverNonce: String, binding: String) {
        self.serverNonce = serverNonce
        self.binding = binding
    }

    /// The shortest secret accepted (bytes): 128 bits.
    public static let minimumSecretLength = 16

    /// 32 random bytes from the system's generator (getrandom), in hex.
    public static func newNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// True for 64 lowercase hex digits (a nonce or a proof).
    public static func isWellFormed(_ text: String) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    /// Who a proof speaks for: the two proofs of one exchange differ only in this word, so a
    /// client's proof can never be reflected back as the relay's.
    private enum Prover: String { case client, relay }

    /// The client's proof for `clientNonce`.
    public func clientProof(secret: String, clientNonce: String) -> String {
        ControlChallenge.hex(proof(.client, secret: secret, clientNonce: clientNonce))
    }

    /// The relay's proof for `clientNonce`.
    public func relayProof(secret: String, clientNonce: String) -> String {
        ControlChallenge.hex(proof(.relay, secret: secret, clientNonce: clientNonce))
    }

    /// Checks a client's proof in constant time.
    public func acceptsClient(proof: String, clientNonce: String, secret: String) -> Bool {
        guard ControlChallenge.isWellFormed(clientNonce) else { return false }
        return matches(proof, self.proof(.client, secret: secret, clientNonce: clientNonce))
    }

    /// Checks the relay's answer in constant time.
    public func acceptsRelay(proof: String, clientNonce: String, secret: String) -> Bool {
        matches(proof, self.proof(.relay, secret: secret, clientNonce: clientNonce))
    }

    /// The HMAC one side sends: over both nonces and the binding, keyed with the secret.
    private func proof(_ prover: Prover, secret: String, clientNonce: String) -> [UInt8] {
        mac(secret, "iptrtp/2 \(prover.rawValue) \(serverNonce) \(clientNonce) \(binding)")
    }

    /// A received proof (64 lowercase hex digits) equals `expected`, compared in constant time.
    private func matches(_ proof: String, _ expected: [UInt8]) -> Bool {
        guard ControlChallenge.isWellFormed(proof), let bytes = ControlChallenge.bytes(ofHex: proof) else { return false }
        return ControlChallenge.constantTimeEqual(bytes, expected)
    }

    /// HMAC-SHA256 of `message` with `secret` as the key.
    private func mac(_ secret: String, _ message: String) -> [UInt8] {
        oneShotHMAC(EVP_sha256(), key: Array(secret.utf8), data: Array(message.utf8))
    }

    /// Equal bytes, compared in time that depends only on the length.
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count, !a.isEmpty else { return false }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in CRYPTO_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes(ofHex text: String) -> [UInt8]? {
        let u = Array(text.utf8)
        guard u.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out: [UInt8] = []
        var i = 0
        while i < u.count {
            guard let h = nibble(u[i]), let l = nibble(u[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }
}

/// The channel binding of a TLS session: its 32 exported bytes in hex.
public func tlsChannelBinding(_ exported: [UInt8]) -> String { "tls:" + ControlChallenge.hex(exported) }
