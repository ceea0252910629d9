import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// One stream connection to a relay's control socket, with every wait bounded by a deadline.
final class ControlSocket {
    let fd: Int32
    private var buffered: [UInt8] = []
    /// Bytes of `buffered` already searched for a newline.
    private var scanned = 0

    /// Connects within `timeout` milliseconds.
    init(_ address: ControlAddress, timeout: Int32) throws {
        let socketAddress: SocketAddress
        switch address {
        case .unix(let path):
            do {
                socketAddress = try SocketAddress(unixPath: path)
            } catch {
                throw MediaPlaneError("control socket path '\(path)' is too long")
            }
        case .tcp(let e):
            socketAddress = SocketAddress(e)
        }
        do {
            fd = try Socket.connected(to: socketAddress, timeout: timeout)
        } catch let e as SystemError {
            throw MediaPlaneError("control \(address): connect: \(e.code == ETIMEDOUT ? "timed out" : SystemError.text(e.code))")
        }
    }

    deinit { close(fd) }

    /// Writes the whole line within the deadline.
    func write(_ line: String, deadline: Int64) throws {
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                retryingOnInterrupt { send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL)) }
            }
            if n > 0 { offset += n; continue }
            if n < 0 && lastCallWouldBlock {
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
            let n = chunk.withUnsafeMutableBytes { raw in retryingOnInterrupt { recv(fd, raw.baseAddress, raw.count, 0) } }
            if n > 0 { buffered.append(contentsOf: chunk[0..<n]); continue }
            if n < 0 && lastCallWouldBlock {
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
        let left = deadline - MonotonicClock.milliseconds()
        guard left > 0 else { throw MediaPlaneError("control: no reply from the relay within the timeout") }
        var p = pollfd(fd: fd, events: events, revents: 0)
        _ = poll(&p, 1, Int32(min(left, Int64(Int32.max))))
    }

    /// The connection failed under the request (closed, reset).
    struct Broken: Error {
        var reason: String
    }

    static func errorText() -> String { SystemError.text(errno) }
}
