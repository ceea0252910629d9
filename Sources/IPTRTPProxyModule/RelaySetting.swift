/// The `relay` modparam: where the media plane runs.
enum RelaySetting: Equatable, CustomStringConvertible {
    /// The module forks one helper process inside the proxy that runs the relay engine (default).
    case embedded
    /// An external `iptrtpproxyd` on a local control socket.
    case unixSocket(path: String)
    /// An external `iptrtpproxyd` on a TCP control port.
    case tcp(host: String, port: UInt16)

    /// Parses `embedded`, `unix:/path` or `tcp:host:port` (IPv6 hosts in brackets).
    init(parsing raw: String) throws {
        let text = raw.trimmingSpaces
        if text.lowercased() == "embedded" {
            self = .embedded
        } else if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard path.hasPrefix("/"), path.utf8.count < 108 else {
                throw ModuleConfigError("relay 'unix:PATH' needs an absolute path shorter than 108 bytes, not '\(path)'")
            }
            self = .unixSocket(path: path)
        } else if text.hasPrefix("tcp:") {
            let rest = text.dropFirst(4)
            guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]), port > 0 else {
                throw ModuleConfigError("relay 'tcp:HOST:PORT' needs a port 1-65535, not '\(rest)'")
            }
            var host = String(rest[..<colon])
            if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { throw ModuleConfigError("relay 'tcp:HOST:PORT' needs a host") }
            self = .tcp(host: host, port: port)
        } else {
            throw ModuleConfigError("relay must be 'embedded', 'unix:/path' or 'tcp:host:port', not '\(text)'")
        }
    }

    var description: String {
        switch self {
        case .embedded: return "embedded"
        case .unixSocket(let path): return "unix:\(path)"
        case .tcp(let host, let port): return host.contains(":") ? "tcp:[\(host)]:\(port)" : "tcp:\(host):\(port)"
        }
    }
}

/// A modparam or module-init problem, reported to the host's log before it refuses to start.
struct ModuleConfigError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension StringProtocol {
    /// The text without leading and trailing blanks and line breaks.
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s = s.dropLast() }
        return String(s)
    }
}
