import CIPTRTPProxyTLS

/// A TLS context or session that could not be set up: one line for the operator, naming the file
/// or the step and OpenSSL's reason.
public struct TLSError: Error, Sendable, CustomStringConvertible, Equatable {
    /// What failed and why.
    public let message: String
    /// Creates the error.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// The calling thread's OpenSSL error queue. OpenSSL reports failures there, and SSL_get_error
/// reads it too: every call into OpenSSL that may fail starts with `clear()` so that an old entry
/// is never taken for a new failure, and every failure ends with `drain()`.
enum OpenSSLErrors {
    /// Empties the queue.
    static func clear() { ERR_clear_error() }

    /// Empties the queue and returns its first (oldest, the root cause) entry as
    /// ERR_error_string_n writes it, or `fallback` when the queue was empty.
    static func drain(or fallback: String = "no reason given by OpenSSL") -> String {
        let first = ERR_get_error()
        ERR_clear_error()
        guard first != 0 else { return fallback }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(first, &text, text.count)
        return text.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}
