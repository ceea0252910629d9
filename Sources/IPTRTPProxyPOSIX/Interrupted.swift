import Glibc

/// Runs a system call again while it fails with EINTR (a signal arrived), and returns its result.
/// Every system call of the project that may be interrupted goes through here, so no loop of its
/// own decides what an interruption means.
@inlinable
public func retryingOnInterrupt<Result: BinaryInteger>(_ call: () -> Result) -> Result {
    while true {
        let result = call()
        if result < 0 && errno == EINTR { continue }
        return result
    }
}

/// True when the last call failed only because it would block (or was interrupted): try later.
@inlinable
public var lastCallWouldBlock: Bool { errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR }
