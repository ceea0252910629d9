import Glibc

/// A netlink operation failed with `errno` (positive). Callers turn it into a
/// `KernelOffloadError` that says what was being done.
struct NetlinkError: Error, Equatable {
    /// The errno value.
    var errno: Int32

    init(_ errno: Int32) { self.errno = errno }

    /// The error a kernel reply carries (netlink subsystems use either sign).
    init(kernel error: Int32) { self.errno = error < 0 ? -error : error }
}
