import IPTRTPProxyClient
import IPTRTPProxyCore

/// The `relay` modparam: where the media plane runs.
enum RelaySetting: Equatable, CustomStringConvertible {
    /// The module forks one helper process inside the proxy that runs the relay engine (default);
    /// workers reach it on a private Unix socket in the proxy's runtime folder.
    case embedded
    /// An external `iptrtpproxyd` on its control socket.
    case external(ControlAddress)
    /// The original xt_RTPPROXY kernel target through libipt_RTPPROXY (nil: the library's usual
    /// places, or `$IPT_RTPPROXY_LIB`).
    case xt(libraryPath: String?)

    /// Parses `embedded`, `unix:/path`, `tcp:ADDRESS:PORT` or `tls:HOST:PORT` (numeric address,
    /// IPv6 in brackets, or localhost),
    /// `xt` or `xt:/path/to/libipt_RTPPROXY.so`.
    init(parsing raw: String) throws {
        let text = raw.trimmingSpaces
        if text.lowercased() == "embedded" {
            self = .embedded
            return
        }
        if text.lowercased() == "xt" {
            self = .xt(libraryPath: nil)
            return
        }
        if text.hasPrefix("xt:/") {
            self = .xt(libraryPath: String(text.dropFirst(3)))
            return
        }
        guard text.hasPrefix("unix:") || text.hasPrefix("tcp:") || text.hasPrefix("tls:") else {
            throw ModuleConfigError(
                "relay must be 'embedded', 'unix:/path', 'tcp:ADDRESS:PORT', 'tls:HOST:PORT', 'xt' or 'xt:/path/libipt_RTPPROXY.so', not '\(text)'")
        }
        do {
            self = .external(try ControlAddress(parsing: text))
        } catch {
            throw ModuleConfigError("relay: \(error)")
        }
    }

    var description: String {
        switch self {
        case .embedded: return "embedded"
        case .external(let address): return address.description
        case .xt(let path): return path.map { "xt:\($0)" } ?? "xt"
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
