import Glibc

/// A failed system call: which, and the C library's text for its errno.
struct SystemError: Error, CustomStringConvertible {
    let call: String
    let code: Int32

    /// Captures `errno` unless `code` is given.
    init(_ call: String, code: Int32 = errno) {
        self.call = call
        self.code = code
    }

    var description: String { "\(call): \(String(cString: strerror(code)))" }
}
