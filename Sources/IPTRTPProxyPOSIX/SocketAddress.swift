import Glibc
import IPTRTPProxyCore

/// An address in the form bind(2) and connect(2) take: an IP endpoint (written by
/// `PeerAddress`) or a Unix socket path.
public struct SocketAddress: Sendable, CustomStringConvertible {
    private var storage = sockaddr_storage()
    /// Bytes of `storage` that hold the address.
    public private(set) var length: socklen_t = 0
    /// AF_INET, AF_INET6 or AF_UNIX.
    public var family: Int32 { Int32(storage.ss_family) }
    /// For messages.
    public let description: String

    /// An IPv4 or IPv6 endpoint.
    public init(_ endpoint: Endpoint) {
        description = endpoint.description
        length = PeerAddress(endpoint).write(to: &storage)
    }

    /// A Unix socket path; throws when it is empty or longer than `sun_path` holds.
    public init(unixPath path: String) throws {
        description = path
        var un = sockaddr_un()
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count < MemoryLayout.size(ofValue: un.sun_path) else {
            throw SystemError("unix socket path '\(path)' is empty or too long", code: ENAMETOOLONG)
        }
        un.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &un.sun_path) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
        }
        withUnsafeMutableBytes(of: &storage) { dst in withUnsafeBytes(of: un) { dst.copyMemory(from: $0) } }
        length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + 1)
    }

    /// Calls `body` with the address as the system calls take it.
    public func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: storage) { raw in
            try body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }
}
