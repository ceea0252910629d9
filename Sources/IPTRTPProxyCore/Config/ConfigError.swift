/// A configuration the module or the relay cannot start with: where, and what was expected.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file (or `switchboard modparam`) the error was found in.
    public let source: String
    /// The 1-based line, when the source has lines.
    public let line: Int?
    /// What is wrong, and what was expected.
    public let reason: String

    /// Creates the error.
    public init(source: String, line: Int? = nil, _ reason: String) {
        self.source = source
        self.line = line
        self.reason = reason
    }

    /// `FILE:LINE: reason`.
    public var description: String {
        if let line { return "\(source):\(line): \(reason)" }
        return "\(source): \(reason)"
    }
}
