/// Reads `iptrtpproxy.cfg` (spec §2): `[switchboard:NAME]` sections with `addr-a`, `addr-b`,
/// `port-a`, `port-b`, and `[default:switchboard]` for values every switchboard inherits.
///
/// Beyond the original: `max-sess`, `expires-timeout` and `resurrection-timeout` (named as the
/// xt_RTPPROXY target's options) size and time the sessions; `max-stream-pps` and
/// `max-stream-burst` set the relay's per-stream flood throttle for the switchboard; IPv6 gate addresses are accepted; keys
/// under a section of another tool are ignored instead of landing on the previous switchboard.
/// Unknown keys are ignored everywhere so that a file shared with other tools still loads.
public enum SwitchboardConfigParser {
    /// The longest switchboard name the original accepted.
    public static let maxNameLength = 20

    /// Parses the file's text; `fileName` is used in error messages only.
    public static func parse(_ text: String, fileName: String) throws -> SwitchboardSet {
        var defaults = PartialSwitchboard(name: "default", line: 0)
        var declared: [PartialSwitchboard] = []
        enum Section { case none, defaults, switchboard, foreign }
        var section = Section.none

        for (index, rawLine) in splitLines(text).enumerated() {
            let lineNo = index + 1
            let line = stripComment(rawLine).trimmingBlanks
            if line.isEmpty { continue }
            func fail(_ reason: String) -> ConfigError { ConfigError(source: fileName, line: lineNo, reason) }

            if line.hasPrefix("[") {
                guard line.hasSuffix("]") else { throw fail("section header must end with ']'") }
                let inner = String(line.dropFirst().dropLast()).trimmingBlanks
                let parts = inner.split(separator: ":", maxSplits: 1).map { $0.trimmingBlanks }
                let kind = parts.first?.asciiLowercased ?? ""
                if kind == "switchboard" && parts.count == 2 {
                    let name = unquote(parts[1])
                    guard isValidName(name) else {
                        throw fail("switchboard name '\(name)' must be 1-\(maxNameLength) characters of A-Z a-z 0-9 _ -")
                    }
                    if declared.contains(where: { $0.name.asciiLowercased == name.asciiLowercased }) {
                        throw fail("switchboard '\(name)' is declared twice")
                    }
                    declared.append(PartialSwitchboard(name: name, line: lineNo))
                    section = .switchboard
                } else if kind == "default" && parts.count == 2 && parts[1].asciiLowercased == "switchboard" {
                    section = .defaults
                } else {
                    section = .foreign
                }
                continue
            }

            guard let eq = line.firstIndex(of: "=") else {
                throw fail("expected 'key = value' or a [section] header")
            }
            let key = line[..<eq].trimmingBlanks
            let valueTokens = line[line.index(after: eq)...].split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard PartialSwitchboard.knownKeys.contains(key) else { continue }
            guard valueTokens.count == 1 else {
                throw fail("'\(key)' takes exactly one value (only '#' starts a comment)")
            }
            let value = unquote(String(valueTokens[0]))
            switch section {
            case .foreign: continue
            case .none: throw fail("'\(key)' comes before any [switchboard:NAME] or [default:switchboard] section")
            case .defaults: try defaults.set(key, value, fail)
            case .switchboard: try declared[declared.count - 1].set(key, value, fail)
            }
        }

        var result: [Switchboard] = []
        for partial in declared {
            result.append(try partial.resolved(defaults: defaults, fileName: fileName))
        }
        // The original prepends each switchboard, so lookups walk them in reverse file order.
        return SwitchboardSet(result.reversed())
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= maxNameLength && name.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c == 45
        }
    }

    static func splitLines(_ text: String) -> [Substring] {
        text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
    }

    static func stripComment(_ line: Substring) -> Substring {
        var inQuote = false
        for i in line.indices {
            if line[i] == "\"" { inQuote.toggle() }
            if line[i] == "#" && !inQuote { return line[..<i] }
        }
        return line
    }

    static func unquote(_ s: String) -> String {
        if s.count >= 2 && s.hasPrefix("\"") && s.hasSuffix("\"") { return String(s.dropFirst().dropLast()) }
        return s
    }
}

/// A switchboard as the file declares it, before defaults and the A/B copying are applied.
struct PartialSwitchboard {
    static let knownKeys: Set<String> = [
        "addr-a", "addr-b", "port-a", "port-b", "max-sess", "expires-timeout", "resurrection-timeout",
        "max-stream-pps", "max-stream-burst", "ice",
    ]
    /// The largest per-stream rate or burst a file may set (far above any media stream).
    static let maxStreamLimit: UInt32 = 100_000_000

    var name: String
    var line: Int
    var address: [IPAddress?] = [nil, nil]
    var port: [UInt16?] = [nil, nil]
    var maxSessions: Int?
    var expiresTimeout: UInt32?
    var resurrectionTimeout: UInt32?
    var maxStreamPPS: UInt32?
    var maxStreamBurst: UInt32?
    var ice: ICEPolicy?

    mutating func set(_ key: String, _ value: String, _ fail: (String) -> ConfigError) throws {
        switch key {
        case "addr-a", "addr-b":
            guard let a = IPAddress(value), !a.isUnspecified else {
                throw fail("'\(key)' must be an IPv4 or IPv6 address, not '\(value)'")
            }
            address[key == "addr-a" ? 0 : 1] = a
        case "port-a", "port-b":
            guard let p = UInt16(value), p > 0 else { throw fail("'\(key)' must be a port 1-65535, not '\(value)'") }
            port[key == "port-a" ? 0 : 1] = p
        case "max-sess":
            guard let n = Int(value), n > 0, n <= 32767 else { throw fail("'max-sess' must be 1-32767, not '\(value)'") }
            maxSessions = n
        case "expires-timeout", "resurrection-timeout":
            guard let t = UInt32(value) else { throw fail("'\(key)' must be seconds (an unsigned number), not '\(value)'") }
            if key == "expires-timeout" {
                guard t > 0 else { throw fail("'expires-timeout' must be at least 1 second") }
                expiresTimeout = t
            } else {
                resurrectionTimeout = t
            }
        case "max-stream-pps", "max-stream-burst":
            guard let n = UInt32(value), n >= 1, n <= PartialSwitchboard.maxStreamLimit else {
                throw fail("'\(key)' must be packets, 1-\(PartialSwitchboard.maxStreamLimit), not '\(value)'")
            }
            if key == "max-stream-pps" { maxStreamPPS = n } else { maxStreamBurst = n }
        case "ice":
            do { ice = try ICEPolicy(parsing: value) } catch let e as ConfigError { throw fail("'ice' \(e.reason)") }
        default:
            break
        }
    }

    func resolved(defaults: PartialSwitchboard, fileName: String) throws -> Switchboard {
        func fail(_ reason: String) -> ConfigError {
            ConfigError(source: fileName, line: line, "switchboard '\(name)': \(reason)")
        }
        var address = zip(self.address, defaults.address).map { $0 ?? $1 }
        var port = zip(self.port, defaults.port).map { $0 ?? $1 }
        let sessions = maxSessions ?? defaults.maxSessions ?? Switchboard.defaultMaxSessions
        // A still-missing B value is copied from A, and the other way round.
        address[1] = address[1] ?? address[0]; address[0] = address[0] ?? address[1]
        if address[0] == address[1], let a = port[0], port[1] == nil, Int(a) + 4 * sessions <= 65536 {
            // One address and one port given: copying the port would put both gates on the same
            // sockets, so gate B takes the ports right after gate A's range.
            port[1] = UInt16(Int(a) + 2 * sessions)
        }
        port[1] = port[1] ?? port[0]; port[0] = port[0] ?? port[1]
        guard let addrA = address[0], let addrB = address[1] else { throw fail("no gate address (set addr-a)") }
        guard let portA = port[0], let portB = port[1] else { throw fail("no gate port (set port-a)") }
        let switchboard = Switchboard(
            name: name,
            gateA: Gate(address: addrA, basePort: portA),
            gateB: Gate(address: addrB, basePort: portB),
            maxSessions: sessions,
            expiresTimeout: expiresTimeout ?? defaults.expiresTimeout ?? Switchboard.defaultExpiresTimeout,
            resurrectionTimeout: resurrectionTimeout ?? defaults.resurrectionTimeout ?? Switchboard.defaultResurrectionTimeout,
            maxStreamPPS: maxStreamPPS ?? defaults.maxStreamPPS,
            maxStreamBurst: maxStreamBurst ?? defaults.maxStreamBurst)
        if let problem = switchboard.layoutProblem { throw fail(problem) }
        var result = switchboard
        result.ice = ice ?? defaults.ice ?? .remove
        return result
    }
}
