import IPTRTPProxyClient
import IPTRTPProxyCore

/// One `relay` modparam line: where the media plane runs.
enum RelaySetting: Equatable, CustomStringConvertible {
    /// The module forks one helper process inside the proxy that runs the relay engine (default);
    /// workers reach it on a private Unix socket in the proxy's runtime folder.
    case embedded
    /// An external `iptrtpproxyd` on its control socket: one media host of the proxy's pool.
    case external(RelayEndpoint)
    /// The original xt_RTPPROXY kernel target through libipt_RTPPROXY (nil: the library's usual
    /// places, or `$IPT_RTPPROXY_LIB`).
    case xt(libraryPath: String?)

    /// Parses `embedded`, `xt`, `xt:/path/to/libipt_RTPPROXY.so`, or a media host:
    /// `unix:/path`, `tcp:ADDRESS:PORT` or `tls:HOST:PORT` (numeric address, IPv6 in brackets, or
    /// localhost) with optional `;weight=N;secret=S;id=NAME` (`RelayEndpoint`).
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
                "modparam 'relay' must be 'embedded', 'unix:/path', 'tcp:ADDRESS:PORT', 'tls:HOST:PORT' (each with optional ;weight=N;secret=S;id=NAME), 'xt' or 'xt:/path/libipt_RTPPROXY.so', not '\(text)'")
        }
        self = .external(try RelayEndpoint(parsing: text))
    }

    var description: String {
        switch self {
        case .embedded: return "embedded"
        case .external(let endpoint): return endpoint.description
        case .xt(let path): return path.map { "xt:\($0)" } ?? "xt"
        }
    }
}

/// One media host of the pool, as a `relay` modparam gives it:
/// `tcp:10.0.0.5:7722;weight=2;secret=...;id=m1`.
struct RelayEndpoint: Equatable, CustomStringConvertible {
    /// The relay's control socket.
    var address: ControlAddress
    /// Its share of new calls relative to the other hosts of a pool (`weight`, 1-1000, default 1).
    var weight: Int
    /// The shared secret for this host (`secret`), instead of `relay_secret`.
    var secret: String?
    /// The host's name in session ids (`pub@ID:7/1234`) and reports (`id`). Without `id=`, eight hex
    /// digits derived from the address, so that ids in calls in progress keep naming the same
    /// host when relays are added, removed or reordered and the proxy restarts.
    var id: String
    /// True when `id` was given, not derived.
    var idGiven: Bool

    /// Largest `weight`.
    static let maxWeight = 1000

    /// Parses `ADDRESS[;weight=N][;secret=S][;id=NAME]`.
    init(parsing text: String) throws {
        let parts = text.split(separator: ";", omittingEmptySubsequences: false).map { $0.trimmingSpaces }
        let addressText = parts[0]
        do {
            address = try ControlAddress(parsing: addressText)
        } catch {
            throw ModuleConfigError("modparam 'relay' '\(text)': \(error)")
        }
        weight = 1
        secret = nil
        id = RelayEndpoint.derivedID(addressText)
        idGiven = false
        var seen = Set<String>()
        for part in parts.dropFirst() where !part.isEmpty {
            guard let eq = part.firstIndex(of: "=") else {
                throw ModuleConfigError("modparam 'relay' '\(text)': '\(part)' is not name=value (weight, secret or id)")
            }
            let key = part[..<eq].trimmingSpaces.lowercased()
            let value = part[part.index(after: eq)...].trimmingSpaces
            guard seen.insert(key).inserted else { throw ModuleConfigError("modparam 'relay' '\(text)': '\(key)' is given twice") }
            switch key {
            case "weight":
                guard let w = Int(value), w >= 1, w <= Self.maxWeight else {
                    throw ModuleConfigError("modparam 'relay' '\(text)': weight must be 1-\(Self.maxWeight), not '\(value)'")
                }
                weight = w
            case "secret":
                guard value.utf8.count >= 16 else {
                    throw ModuleConfigError("modparam 'relay' '\(addressText)': secret has \(value.utf8.count) bytes; the relay needs at least 16")
                }
                secret = value
            case "id":
                guard SessionIDList.isValidHost(value) else {
                    throw ModuleConfigError("modparam 'relay' '\(text)': id must be 1-\(SessionIDList.maxHostLength) characters of A-Z a-z 0-9 _ - ., not '\(value)'")
                }
                id = value
                idGiven = true
            default:
                throw ModuleConfigError("modparam 'relay' '\(text)': unknown parameter '\(key)' (expected weight, secret or id)")
            }
        }
    }

    /// Eight lowercase hex digits of the FNV-1a hash of the address as written.
    static func derivedID(_ address: String) -> String {
        var hash: UInt32 = 2_166_136_261
        for byte in address.utf8 {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 8 - hex.count) + hex
    }

    /// The address, and the parameters that differ from the defaults (never the secret).
    var description: String {
        var text = address.description
        if weight != 1 { text += ";weight=\(weight)" }
        if idGiven { text += ";id=\(id)" }
        return text
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
