import Glibc

/// An exclusive advisory lock (`flock`) on a file of its own, held while this object lives or
/// until `release`: it says that one process, and only one, owns something else on disk (a
/// relay's journal). The kernel drops the lock when the holder dies, SIGKILL included, so a
/// crashed holder never leaves a stale lock behind (only its file, which the next holder takes).
/// `release` removes the file, and a process that locked a file no longer at `path` (removed, or
/// replaced, while it waited) opens the path again: two never hold files of the same name. The
/// holder's pid is written into the file, for the message of whoever finds it taken.
public final class FileLock {
    public let path: String
    /// -1 once released.
    private var fd: Int32

    /// The lock at `path` is held by another process (its pid when the file names one).
    public struct Held: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let holder: pid_t?
        public var description: String {
            "\(path) is locked by another process" + (holder.map { " (pid \($0))" } ?? "")
        }
    }

    /// Takes the lock at `path` (created with mode 0600), trying again every 50 ms for up to
    /// `waitMilliseconds` while another process holds it: a holder that was just killed may
    /// still be exiting. Throws `Held` when it stays taken, `SystemError` when the file cannot be
    /// opened or locked.
    public init(path: String, waitMilliseconds: Int64 = 0) throws {
        self.path = path
        let deadline = MonotonicClock.milliseconds() + waitMilliseconds
        var fd: Int32 = -1
        while true {
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { throw SystemError("open \(path)") }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 {
                if FileLock.isStill(fd, at: path) { break }
                Glibc.close(fd)  // its holder removed it as we took it: lock the path's file anew
                continue
            }
            let code = errno
            guard code == EWOULDBLOCK || code == EINTR else {
                Glibc.close(fd)
                throw SystemError("flock \(path)", code: code)
            }
            if MonotonicClock.milliseconds() >= deadline {
                let holder = FileLock.holder(fd)
                Glibc.close(fd)
                throw Held(path: path, holder: holder)
            }
            Glibc.close(fd)
            var pause = timespec(tv_sec: 0, tv_nsec: 50_000_000)
            _ = nanosleep(&pause, nil)
        }
        self.fd = fd
        // Ours now: name the holder (best effort; the lock, not the text, is what counts).
        let text = Array("\(getpid())\n".utf8)
        if ftruncate(fd, 0) == 0 { _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) } }
    }

    deinit { release() }

    /// Removes the lock file and drops the lock.
    public func release() {
        guard fd >= 0 else { return }
        // Removed while still held, so that nobody locks it in between and keeps it.
        if FileLock.isStill(fd, at: path) { unlink(path) }
        Glibc.close(fd)
        fd = -1
    }

    /// Whether `path` still names the file open at `fd`.
    private static func isStill(_ fd: Int32, at path: String) -> Bool {
        var open = stat(), named = stat()
        guard fstat(fd, &open) == 0, stat(path, &named) == 0 else { return false }
        return open.st_dev == named.st_dev && open.st_ino == named.st_ino
    }

    /// The pid written in the lock file, when it holds one.
    private static func holder(_ fd: Int32) -> pid_t? {
        var bytes = [UInt8](repeating: 0, count: 24)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        let text = String(decoding: bytes[..<n], as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        return pid_t(text).flatMap { $0 > 0 ? $0 : nil }
    }
}
