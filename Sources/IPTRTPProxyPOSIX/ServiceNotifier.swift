import Glibc

/// systemd's service notification (sd_notify(3), `Type=notify`) without libsystemd: one datagram
/// of `KEY=value` lines to the Unix socket `$NOTIFY_SOCKET` names. A path that starts with `@` is
/// in the abstract namespace (the `@` stands for the leading NUL byte).
///
/// Outside systemd (no `NOTIFY_SOCKET`) there is no notifier and nothing is sent.
public struct ServiceNotifier: Sendable {
    /// The socket's address as `sendto` takes it.
    private let address: sockaddr_un
    /// Bytes of `address` that count (the abstract namespace has no trailing NUL).
    private let length: socklen_t
    /// The path as given, for messages.
    public let path: String

    /// The notifier of `$NOTIFY_SOCKET`; nil when the variable is unset or empty.
    public static func fromEnvironment() throws -> ServiceNotifier? {
        guard let value = getenv("NOTIFY_SOCKET").map({ String(cString: $0) }), !value.isEmpty else { return nil }
        return try ServiceNotifier(path: value)
    }

    /// A notifier for the socket at `path` (`@name` for the abstract namespace); throws when the
    /// path is not absolute nor abstract, or too long for `sun_path`.
    public init(path: String) throws {
        var bytes = Array(path.utf8)
        let abstract = bytes.first == UInt8(ascii: "@")
        guard abstract || bytes.first == UInt8(ascii: "/") else {
            throw SystemError("NOTIFY_SOCKET '\(path)' is neither an absolute path nor @abstract", code: EINVAL)
        }
        if abstract { bytes[0] = 0 }
        var un = sockaddr_un()
        // A path needs its trailing NUL inside sun_path; an abstract name does not.
        guard bytes.count + (abstract ? 0 : 1) <= MemoryLayout.size(ofValue: un.sun_path), bytes.count > 1 || !abstract else {
            throw SystemError("NOTIFY_SOCKET '\(path)' is too long or empty", code: ENAMETOOLONG)
        }
        un.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &un.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        self.address = un
        self.length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
        self.path = path
    }

    /// Sends `state`, e.g. `READY=1\nSTATUS=serving`, as one datagram; throws when the socket
    /// refuses it (systemd not listening, a full queue).
    public func notify(_ state: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket for NOTIFY_SOCKET") }
        defer { close(fd) }
        let bytes = Array(state.utf8)
        var target = address
        let sent = withUnsafePointer(to: &target) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { name in
                retryingOnInterrupt { sendto(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL), name, length) }
            }
        }
        guard sent == bytes.count else { throw SystemError("send to NOTIFY_SOCKET \(path)") }
    }
}
