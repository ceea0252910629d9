import CIPTRTPProxy
import Glibc

/// A self-pipe: threads that sleep in epoll or poll include its read end and wake when `signal()`
/// writes a byte. Used to stop threads promptly.
final class WakeupPipe {
    let readFD: Int32
    let writeFD: Int32

    init() throws {
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw SystemError("pipe") }
        readFD = fds[0]
        writeFD = fds[1]
        for fd in fds {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    /// Wakes every thread waiting on `readFD` (the byte is never read, so it stays readable).
    func signal() {
        var b: UInt8 = 1
        _ = write(writeFD, &b, 1)
    }
}
