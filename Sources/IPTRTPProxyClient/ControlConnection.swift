import Glibc
import IPTRTPProxyAuth
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import IPTRTPProxyTLS

/// One stream connection to a relay's control socket, with every wait bounded by a deadline.
/// On a `tls:` address every byte goes through a `TLSSession`, whose handshake (certificate and
/// host checked) is part of connecting.
final class ControlSocket {
    let fd: Int32
    /// TLS over `fd`, for a `tls:` address.
    private let session: TLSSession?
    /// What the challenge binds its proofs to (docs/control-protocol.md): `tcp` on a plain
    /// connection (TCP, Unix), `tls:` and the lowercase hex of the TLS exporter's 32 bytes on TLS.
    let channelBinding: String
    private var buffered: [UInt8] = []
    /// Bytes of `buffered` already searched for a newline.
    private var scanned = 0
    /// What a read takes the bytes into: one per connection, not a fresh 64 KB per reply.
    private var chunk = [UInt8](repeating: 0, count: 65536)

    /// Connects, and on a `tls:` address completes the TLS handshake with `tls`, within `timeout`
    /// milliseconds. A `tls:` address needs a client context (it holds the CA that the relay's
    /// certificate is checked against).
    init(_ address: ControlAddress, timeout: Int32, tls: TLSContext? = nil) throws {
        let deadline = MonotonicClock.milliseconds() + Int64(timeout)
        let socketAddress: SocketAddress
        var tlsHost: String?
        switch address {
        case .unix(let path):
            do {
                socketAddress = try SocketAddress(unixPath: path)
            } catch {
                throw MediaPlaneError("control socket path '\(path)' is too long")
            }
        case .tcp(let e):
            socketAddress = SocketAddress(e)
        case .tls(let host, let e):
            guard tls != nil else { throw MediaPlaneError("control \(address): tls: needs a CA file") }
            socketAddress = SocketAddress(e)
            tlsHost = host
        }
        let fd: Int32
        do {
            fd = try Socket.connected(to: socketAddress, timeout: timeout)
        } catch let e as SystemError {
            throw MediaPlaneError("control \(address): connect: \(e.code == ETIMEDOUT ? "timed out" : SystemError.text(e.code))")
        }
        guard let tlsHost, let tls else {
            self.fd = fd
            session = nil
            channelBinding = "tcp"
            return
        }
        do {
            let session = try TLSSession(clientOn: fd, context: tls, expectedHost: tlsHost)
            try ControlSocket.handshake(session, address: address, deadline: deadline)
            guard let binding = session.channelBinding() else {
                throw MediaPlaneError("control \(address): TLS: no keying material for the channel binding")
            }
            self.fd = fd
            self.session = session
            channelBinding = tlsChannelBinding(binding)
        } catch let e as TLSError {
            close(fd)
            throw MediaPlaneError("control \(address): \(e.message)")
        } catch {
            close(fd)
            throw error
        }
    }

    deinit {
        session?.close()
        close(fd)
    }

    private static func handshake(_ session: TLSSession, address: ControlAddress, deadline: Int64) throws {
        while true {
            let events: Int16
            switch session.handshake() {
            case .done: return
            case .wantRead: events = Int16(POLLIN)
            case .wantWrite: events = Int16(POLLOUT)
            case .failed(let reason): throw MediaPlaneError("control \(address): \(reason)")
            }
            guard ControlSocket.poll(session.fd, events, deadline: deadline) else {
                throw MediaPlaneError("control \(address): TLS handshake timed out")
            }
        }
    }

    /// Writes the whole line within the deadline.
    func write(_ line: String, deadline: Int64) throws {
        let bytes = Array((line + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            if let session {
                switch bytes.withUnsafeBytes({ session.write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }) {
                case .bytes(let n): offset += n
                case .wantRead: try wait(Int16(POLLIN), deadline: deadline)
                case .wantWrite: try wait(Int16(POLLOUT), deadline: deadline)
                case .closed: throw ControlSocket.Broken(reason: "connection closed")
                case .failed(let reason): throw ControlSocket.Broken(reason: reason)
                }
                continue
            }
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
            if let session {
                switch chunk.withUnsafeMutableBytes({ session.read(into: $0) }) {
                case .bytes(let n): buffered.append(contentsOf: chunk[0..<n])
                case .wantRead: try wait(Int16(POLLIN), deadline: deadline)
                case .wantWrite: try wait(Int16(POLLOUT), deadline: deadline)
                case .closed: throw ControlSocket.Broken(reason: "connection closed by the relay")
                case .failed(let reason): throw ControlSocket.Broken(reason: reason)
                }
                continue
            }
            let n = chunk.withUnsafeMutableBytes { raw in retryingOnInterrupt { recv(fd, raw.baseAddress, raw.count, 0) } }
            if n > 0 { buffered.append(contentsOf: chunk[0..<n]); continue }
            if n < 0 && lastCallWouldBlock {
                try wait(Int16(POLLIN), deadline: deadline)
                continue
            }
            throw ControlSocket.Broken(reason: n == 0 ? "connection closed by the relay" : ControlSocket.errorText())
        }
    }

    /// True when the relay has closed its end, as far as has arrived (an end of stream or a reset
    /// waits to be read; replies still unread are not looked at). Seen only by reading: a TCP
    /// write into a connection whose relay went away still succeeds once, and its request is lost.
    var closedByRelay: Bool {
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        return n == 0 || (n < 0 && !lastCallWouldBlock)
    }

    /// True while nothing of a reply has been read (a failure then means the request may not
    /// have reached the relay).
    var hasBufferedInput: Bool { !buffered.isEmpty }

    private func wait(_ events: Int16, deadline: Int64) throws {
        guard ControlSocket.poll(fd, events, deadline: deadline) else {
            throw MediaPlaneError("control: no reply from the relay within the timeout")
        }
    }

    /// Waits until `fd` is ready for `events` (or hung up); false when the deadline passed first.
    private static func poll(_ fd: Int32, _ events: Int16, deadline: Int64) -> Bool {
        let left = deadline - MonotonicClock.milliseconds()
        guard left > 0 else { return false }
        var p = pollfd(fd: fd, events: events, revents: 0)
        _ = Glibc.poll(&p, 1, Int32(min(left, Int64(Int32.max))))
        return true
    }

    /// The connection failed under the request (closed, reset).
    struct Broken: Error {
        var reason: String
    }

    static func errorText() -> String { SystemError.text(errno) }
}
