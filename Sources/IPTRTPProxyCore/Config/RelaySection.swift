/// The `[relay]` section of the switchboards file: settings of the relay daemon itself, beside
/// its switchboards (the switchboard parser skips the section). Known keys:
///
///     [relay]
///     redis = redis://10.0.0.9:6379/0     # as iptrtpproxyd --redis
///     log-level = notice                   # as iptrtpproxyd --log-level
///     shared-sockets = yes                 # as iptrtpproxyd --shared-sockets (yes/no)
///
/// Only `#` starts a comment; a key given twice, or a key this version does not know, is an error
/// naming the line, so that a typo does not silently leave sessions out of Redis.
public enum RelaySection {
    /// Keys the `[relay]` section may hold.
    public static let knownKeys: Set<String> = ["redis", "log-level", "shared-sockets"]

    /// The section's keys and values (keys lowercased); empty when the file has no `[relay]`.
    public static func values(in text: String, fileName: String) throws -> [String: String] {
        var values: [String: String] = [:]
        var inSection = false
        for (index, rawLine) in SwitchboardConfigParser.splitLines(text).enumerated() {
            let line = SwitchboardConfigParser.stripComment(rawLine).trimmingBlanks
            if line.isEmpty { continue }
            func fail(_ reason: String) -> ConfigError { ConfigError(source: fileName, line: index + 1, reason) }
            if line.hasPrefix("[") {
                inSection = line.dropFirst().dropLast().trimmingBlanks.asciiLowercased == "relay" && line.hasSuffix("]")
                continue
            }
            guard inSection else { continue }
            guard let eq = line.firstIndex(of: "=") else { throw fail("expected 'key = value' in [relay]") }
            let key = line[..<eq].trimmingBlanks.asciiLowercased
            let value = line[line.index(after: eq)...].trimmingBlanks
            guard knownKeys.contains(key) else {
                throw fail("[relay] has no key '\(key)' (known: \(knownKeys.sorted().joined(separator: ", ")))")
            }
            guard values[key] == nil else { throw fail("[relay] '\(key)' is given twice") }
            guard !value.isEmpty else { throw fail("[relay] '\(key)' needs a value") }
            values[key] = value
        }
        return values
    }
}
