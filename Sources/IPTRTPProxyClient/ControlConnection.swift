import Glibc
import IPTRTPProxyCore

/// One stream connection to a relay's control socket, with every wait bounded by a deadline.
final class ControlSocket {
    let fd: Int32
    private var buffered: [UInt8] = []
    /// Bytes of `buffered` already searched for a newline.
    private var scanned = 0

    /// Connects within `timeout` milliseconds.
    init(_ address: ControlAddress, timeout: Int32) throws {
        var storage = sockaddr_storage()
        let length: socklen_t
        let family: Int32
        switch address {
        case .unix(let path):
            var un = sockaddr_un()
            un.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: un.sun_path) else {
                throw MediaPlaneError("control socket path '\(path)' is too long")
            }
            withUnsafeMutableBytes(of: &un.sun_path) { raw in for (i, b) in bytes.enumerated() { raw[i] = b } }
            withUnsafeMutableBytes(of: &storage) { dst in withUnsafeBytes(of: un) { dst.copyMemory(from: $0) } }
            length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
            family = AF_UNIX
        case .tcp(let e):
            switch e.address {
            case .v4(let a):
                var sin = sockaddr_in()
                sin.sin_family = sa_family_t(AF_INET)
                sin.sin_port = e.port.bigEndian
                sin.sin_addr.s_addr = a.bigEndian
                withUnsafeMutableBytes(of: &storage) { dst in withUnsafeBytes(of: sin) { dst.copyMemory(from: $0) } }
                length = socklen_t(MemoryLayout<sockaddr_in>.size)
                family = AF_INET
            case .v6(let b):
                var sin6 = sockaddr_in6()
                sin6.sin6_family = sa_family_t(AF_INET6)
                sin6.sin6_port = e.port.bigEndian
                withUnsafeMutableBytes(of: &sin6.sin6_addr) { raw in for (i, x) in b.bytes.enumerated() { raw[i] = x } }
                withUnsafeMutableBytes(of: &storage) { dst in withUnsafeBytes(of: sin6) { dst.copyMemory(from: $0) } }
                length = socklen_t(MemoryLayout<sockaddr_in6>.size)
                family = AF_INET6
            }
        }
        fd = socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw MediaPlaneError("control \(address): socket: \(ControlSocket.errorText())") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
        }
        if rc != 0 {
            guard errno == EINPROGRESS else {
                let e = ControlSocket.errorText()
                close(fd)
                throw MediaPlaneError("control \(address): connect: \(e)")
            }
            var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            var soError: Int32 = 0
            var size = socklen_t(MemoryLayout<Int32>.size)
            guard poll(&p, 1, timeout) == 1,
                  getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &size) == 0, soError == 0
            else {
                close(fd)
                throw MediaPlaneError("control \(address): connect: \(soError != 0 ? String(cString: strerror(soError)) : "timed out")")
            }
        }
    }

    deinit { close(fd) }

    /// Writes the whole line within the deadline.
    func write(_ line: String, deadline: Int64) throws {
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 { offset += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) {
                try wait(Int16(POLLOUT), deadline: deadline)
                continue
            }
            throw ControlSocket.Broken(reason: n == 0 ? "connection closed" : ControlSocket.errorText())
        }
    }

    /// Reads one line (without the newline) within the deadline.
    func readLine(deadline: Int64, maxLength: Int) throws -> [UInt8] {
        while true {
            if let newline = buffered[scanned...].firstIndex(of: 10) {
                let line = Array(buffered[..<newline])
                buffered.removeSubrange(...newline)
                scanned = 0
                return line
            }
            scanned = buffered.count
            guard buffered.count <= maxLength else { throw MediaPlaneError("control reply longer than \(maxLength) bytes") }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { buffered.append(contentsOf: chunk[0..<n]); continue }
            if n < 0 && (errno == EAGAIN || errno == EINTR) {
                try wait(Int16(POLLIN), deadline: deadline)
                continue
            }
            throw ControlSocket.Broken(reason: n == 0 ? "connection closed by the relay" : ControlSocket.errorText())
        }
    }

    /// True while nothing of a reply has been read (a failure then means the request may not
    /// have reached the relay).
    var hasBufferedInput: Bool { !buffered.isEmpty }

    private func wait(_ events: Int16, deadline: Int64) throws {
        let left = deadline - ControlSocket.milliseconds()
        guard left > 0 else { throw MediaPlaneError("control: no reply from the relay within the timeout") }
        var p = pollfd(fd: fd, events: events, revents: 0)
        _ = poll(&p, 1, Int32(min(left, Int64(Int32.max))))
    }

    /// The connection failed under the request (closed, reset).
    struct Broken: Error {
        var reason: String
    }

    static func errorText() -> String { String(cString: strerror(errno)) }

    static func milliseconds() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}
