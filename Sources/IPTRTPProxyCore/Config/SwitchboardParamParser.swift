/// Applies `switchboard` modparam lines (spec §2) to a set of switchboards:
/// `name=pub;learning-timeout-a=10;always-learn-b=1;ringing-timeout=90;max-stream-pps=3000;max-stream-burst=500;max-call-sessions=16`,
/// or `name=*` for all. A value 0 leaves the setting as it is (as the original's timeouts do).
///
/// After a line that names one switchboard, a learning value set only ever for side A (or only for
/// B) is copied to the other side, as the original did. The applier remembers what was ever set.
public struct SwitchboardParamApplier: Sendable {
    /// The switchboards with every line applied so far.
    public private(set) var switchboards: SwitchboardSet
    private var everSet: [String: Set<String>] = [:]

    /// Starts from switchboards read from the cfg file.
    public init(_ switchboards: SwitchboardSet) { self.switchboards = switchboards }

    /// Applies one modparam value. On error nothing is changed.
    public mutating func apply(_ text: String) throws {
        let line = try Self.parse(text)
        guard let targets = targets(of: line) else {
            let known = switchboards.all.map(\.name).joined(separator: ", ")
            throw line.fail("unknown switchboard '\(line.target)' (the cfg file declares: \(known.isEmpty ? "none" : known))")
        }
        try apply(line, to: targets)
    }

    /// Applies one modparam value if it names `*` or one of these switchboards, and returns
    /// whether it did: switchboards a relay declares may lack a name that another relay has.
    public mutating func applyIfDeclared(_ text: String) throws -> Bool {
        let line = try Self.parse(text)
        guard let targets = targets(of: line) else { return false }
        try apply(line, to: targets)
        return true
    }

    /// Checks one modparam value's grammar and values without applying it; returns the name it
    /// targets (`*` for all).
    @discardableResult
    public static func check(_ text: String) throws -> String { try parse(text).target }

    /// One modparam value, read.
    private struct Line {
        var text: String
        var target: String
        var pairs: [(String, String)]
        func fail(_ reason: String) -> ConfigError { ConfigError(source: "switchboard modparam '\(text)'", reason) }
    }

    private static func parse(_ text: String) throws -> Line {
        var line = Line(text: text, target: "", pairs: [])
        var pairs: [(String, String)] = []
        for item in text.split(separator: ";", omittingEmptySubsequences: false) {
            if item.trimmingBlanks.isEmpty { continue }
            guard let eq = item.firstIndex(of: "=") else { throw line.fail("'\(item.trimmingBlanks)' is not name=value") }
            let name = item[..<eq].trimmingBlanks.asciiLowercased
            let value = item[item.index(after: eq)...].trimmingBlanks
            guard !name.isEmpty, name.utf8.allSatisfy({ c in
                (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || c == 95 || c == 45
            }) else { throw line.fail("parameter name '\(name)' may hold only A-Z a-z 0-9 _ -") }
            pairs.append((name, value))
        }
        guard let first = pairs.first, first.0 == "name" else {
            throw line.fail("must start with name=SWITCHBOARD or name=*")
        }
        line.target = first.1
        line.pairs = Array(pairs.dropFirst())
        // The values are checked against a scratch switchboard, so that a line is refused at load
        // time even when the switchboards it names come later (from a relay).
        var scratch = SwitchboardParamApplier(SwitchboardSet([Switchboard(
            name: "check", gateA: Gate(address: .v4(0x7f000001), basePort: 10000),
            gateB: Gate(address: .v4(0x7f000001), basePort: 20000))]))
        try scratch.apply(line, to: [0])
        return line
    }

    private func targets(of line: Line) -> [Int]? {
        if line.target == "*" { return Array(switchboards.all.indices) }
        return switchboards.index(named: line.target).map { [$0] }
    }

    private mutating func apply(_ line: Line, to targets: [Int]) throws {
        func fail(_ reason: String) -> ConfigError { line.fail(reason) }
        let pairs = [("name", line.target)] + line.pairs
        let first = pairs[0]
        var updated = switchboards
        var everSet = self.everSet
        for (name, value) in pairs.dropFirst() {
            if name == "ice" {
                let policy: ICEPolicy
                do { policy = try ICEPolicy(parsing: value) } catch let e as ConfigError { throw fail("'ice' \(e.reason)") }
                for t in targets { updated.all[t].ice = policy }
                continue
            }
            guard let v = UInt32(value) else { throw fail("'\(name)' takes an unsigned number, not '\(value)'") }
            for t in targets {
                let key = updated.all[t].name.asciiLowercased
                switch name {
                case "learning-timeout-a", "learning-timeout-b":
                    if v != 0 {
                        updated.all[t].learning[name.hasSuffix("a") ? 0 : 1].learningTimeout = v
                        everSet[key, default: []].insert(name)
                    }
                case "always-learn-a", "always-learn-b":
                    updated.all[t].learning[name.hasSuffix("a") ? 0 : 1].alwaysLearn = v != 0
                    everSet[key, default: []].insert(name)
                case "ringing-timeout":
                    if v != 0 { updated.all[t].ringingTimeout = v }
                case "max-stream-pps", "max-stream-burst":
                    guard v <= PartialSwitchboard.maxStreamLimit else {
                        throw fail("'\(name)' must be packets, at most \(PartialSwitchboard.maxStreamLimit), not '\(value)'")
                    }
                    if v != 0 {
                        if name == "max-stream-pps" { updated.all[t].maxStreamPPS = v } else { updated.all[t].maxStreamBurst = v }
                    }
                case "max-call-sessions":
                    // A call cannot use more sessions than it may have m= lines.
                    guard v <= SDPParser.maxMedia else {
                        throw fail("'max-call-sessions' must be sessions, at most \(SDPParser.maxMedia) (the m= lines an SDP may have), not '\(value)'")
                    }
                    if v != 0 { updated.all[t].maxCallSessions = Int(v) }
                default:
                    throw fail("unknown parameter '\(name)' (expected learning-timeout-a/-b, always-learn-a/-b, ringing-timeout, max-stream-pps, max-stream-burst, max-call-sessions, ice)")
                }
            }
        }
        if targets.count == 1 && first.1 != "*" {
            let t = targets[0]
            let set = everSet[updated.all[t].name.asciiLowercased, default: []]
            for stem in ["learning-timeout", "always-learn"] {
                let a = set.contains(stem + "-a"), b = set.contains(stem + "-b")
                guard a != b else { continue }
                let from = a ? 0 : 1
                if stem == "learning-timeout" {
                    updated.all[t].learning[1 - from].learningTimeout = updated.all[t].learning[from].learningTimeout
                } else {
                    updated.all[t].learning[1 - from].alwaysLearn = updated.all[t].learning[from].alwaysLearn
                }
            }
        }
        switchboards = updated
        self.everSet = everSet
    }
}
