import Glibc

/// Why the kernel refused or could not take a stream, or the offload could not start. The relay
/// logs it once and keeps forwarding in user space; nothing is lost.
public struct KernelOffloadError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was being done, and why it failed: one line for the operator.
    public var message: String
    /// The errno the kernel answered with (0 when the failure was not the kernel's).
    public var errno: Int32

    /// Creates the error.
    public init(_ message: String, errno: Int32 = 0) {
        self.message = message
        self.errno = errno
    }

    /// An error for `what` that failed with errno `code` (positive).
    static func system(_ what: String, _ code: Int32) -> KernelOffloadError {
        KernelOffloadError("\(what): \(String(cString: strerror(code)))", errno: code)
    }

    /// The message.
    public var description: String { message }
}
