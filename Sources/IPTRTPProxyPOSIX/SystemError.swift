import Glibc

/// A failed system call: which, and the C library's text for its errno.
public struct SystemError: Error, CustomStringConvertible, Sendable {
    /// What was called (with its object, e.g. `bind 127.0.0.1:5000`).
    public let call: String
    /// The errno value.
    public let code: Int32

    /// Captures `errno` unless `code` is given.
    public init(_ call: String, code: Int32 = errno) {
        self.call = call
        self.code = code
    }

    public var description: String { "\(call): \(SystemError.text(code))" }

    /// The C library's text for an errno value.
    public static func text(_ code: Int32) -> String { String(cString: strerror(code)) }
}
