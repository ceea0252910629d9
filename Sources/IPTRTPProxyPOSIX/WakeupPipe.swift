import CIPTRTPProxy
import Glibc

/// A self-pipe: threads that sleep in epoll or poll include its read end and wake when `signal()`
/// writes a byte. Used to stop threads promptly.
public final class WakeupPipe: Sendable {
    /// Poll this end.
    public let readFD: Int32
    private let writeFD: Int32

    /// Opens the pipe, both ends non-blocking and close-on-exec.
    public init() throws {
        var fds: [Int32] = [-1, -1]
        guard ipt_pipe_nonblock_cloexec(&fds) == 0 else { throw SystemError("pipe2") }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    /// Wakes every thread waiting on `readFD` (the byte is never read, so it stays readable).
    public func signal() {
        var b: UInt8 = 1
        _ = retryingOnInterrupt { write(writeFD, &b, 1) }
    }

    /// Reads every pending byte, so that the next `wait` sleeps until the next `signal()` (for a
    /// pipe that says "work is waiting" rather than "stop").
    public func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while retryingOnInterrupt({ read(readFD, &buffer, buffer.count) }) > 0 {}
    }

    /// Waits up to `milliseconds` (-1: no limit) for `signal()`; true when it came.
    public func wait(milliseconds: Int32) -> Bool {
        var p = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
        let r = poll(&p, 1, milliseconds)
        // A failing poll other than EINTR cannot wait any more: treat it as the signal, so the
        // thread ends instead of spinning.
        return r > 0 || (r < 0 && errno != EINTR)
    }
}
