/// Where the session store's Redis server is: `redis://[:PASSWORD@]HOST[:PORT][/DB]`.
///
/// - `HOST` is a dotted-quad IPv4 address, an IPv6 address in brackets (`[2001:db8::1]`, stored
///   without them), or a host name (labels of letters, digits and `-`, separated by `.`).
/// - `PORT` is 1–65535, 6379 when absent.
/// - `DB` is the database number 0–9999, 0 when absent (a lone trailing `/` also means 0).
/// - `PASSWORD` (Redis `AUTH`, no user name) may carry `%XX` escapes for bytes the URL cannot hold
///   (`%40` for `@`, `%25` for `%`, `%20` for a space).
///
/// The scheme is case-insensitive; nothing else is accepted: no query, fragment or user name, no
/// space or control character anywhere. Pure parsing (no I/O, no Foundation, no name lookup).
public struct RedisURL: Equatable, Sendable, CustomStringConvertible {
    /// IPv4 text, IPv6 text without brackets, or a host name.
    public var host: String
    /// TCP port, 6379 by default.
    public var port: UInt16
    /// The database to SELECT, 0 by default.
    public var database: Int
    /// The password to AUTH with, nil for none.
    public var password: String?

    /// The default Redis port.
    public static let defaultPort: UInt16 = 6379
    /// The database numbers a URL may name.
    public static let databases: ClosedRange<Int> = 0...9999

    /// A URL from its parts (not validated).
    public init(host: String, port: UInt16 = 6379, database: Int = 0, password: String? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.password = password
    }

    /// Parses `redis://[:PASSWORD@]HOST[:PORT][/DB]`; throws `RedisURLError` saying what was expected.
    public init(parsing text: String) throws {
        let bytes = Array(text.utf8)
        func fail(_ reason: String) -> RedisURLError { RedisURLError(text: text, reason) }

        if let bad = bytes.firstIndex(where: { $0 <= 0x20 || $0 >= 0x7F }) {
            let what = bytes[bad] == 0x20 ? "a space" : bytes[bad] >= 0x80 ? "a non-ASCII character" : "a control character"
            throw fail("\(what) at offset \(bad) (expected redis://[:PASSWORD@]HOST[:PORT][/DB])")
        }
        let scheme = Array("redis://".utf8)
        guard bytes.count >= scheme.count,
            zip(bytes, scheme).allSatisfy({ RedisURL.lowercased($0) == $1 })
        else {
            throw fail("expected the scheme redis:// (redis://[:PASSWORD@]HOST[:PORT][/DB])")
        }
        var rest = bytes[scheme.count...]

        // The password: between "redis://:" and the last '@' (the host part never holds one).
        var password: String?
        if let at = rest.lastIndex(of: UInt8(ascii: "@")) {
            let userinfo = rest[rest.startIndex..<at]
            guard userinfo.first == UInt8(ascii: ":") else {
                throw fail("expected :PASSWORD@ before the host (no user name)")
            }
            let escaped = userinfo.dropFirst()
            guard !escaped.isEmpty else { throw fail("expected a password after ':' and before '@'") }
            guard let decoded = RedisURL.percentDecoded(escaped) else {
                throw fail("bad %-escape in the password (expected %XX, two hex digits, UTF-8)")
            }
            password = decoded
            rest = rest[(at + 1)...]
        }

        // The host.
        let host: String
        if rest.first == UInt8(ascii: "[") {
            guard let close = rest.firstIndex(of: UInt8(ascii: "]")) else {
                throw fail("expected ']' after the IPv6 address")
            }
            let inner = rest[(rest.startIndex + 1)..<close]
            guard case .v6? = IPAddress(utf8: inner) else {
                throw fail("expected an IPv6 address between '[' and ']'")
            }
            host = String(decoding: inner, as: UTF8.self)
            rest = rest[(close + 1)...]
        } else {
            let end = rest.firstIndex(where: { $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: "/") }) ?? rest.endIndex
            let name = rest[rest.startIndex..<end]
            if name.isEmpty { throw fail("expected a host after redis://") }
            if let reason = RedisURL.hostProblem(name) { throw fail(reason) }
            host = String(decoding: name, as: UTF8.self)
            rest = rest[end...]
        }

        // The port.
        var port = RedisURL.defaultPort
        if rest.first == UInt8(ascii: ":") {
            rest = rest.dropFirst()
            let end = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.endIndex
            let digits = rest[rest.startIndex..<end]
            guard let value = RedisURL.decimal(digits, maxDigits: 5), (1...65535).contains(value) else {
                throw fail("expected a port 1-65535 after ':'")
            }
            port = UInt16(value)
            rest = rest[end...]
        }

        // The database.
        var database = 0
        if rest.first == UInt8(ascii: "/") {
            let digits = rest.dropFirst()
            if !digits.isEmpty {
                guard let value = RedisURL.decimal(digits, maxDigits: 4), RedisURL.databases.contains(value) else {
                    throw fail("expected a database number 0-9999 after '/'")
                }
                database = value
            }
            rest = rest[rest.endIndex...]
        }
        guard rest.isEmpty else {
            throw fail("unexpected text after the host (expected [:PORT][/DB] at the end)")
        }
        self.init(host: host, port: port, database: database, password: password)
    }

    /// `redis://HOST:PORT/DB`, with `:***@` in place of a password, IPv6 in brackets.
    public var description: String {
        let auth = password == nil ? "" : ":***@"
        let shownHost = host.utf8.contains(UInt8(ascii: ":")) ? "[\(host)]" : host
        return "redis://\(auth)\(shownHost):\(port)/\(database)"
    }

    // MARK: - Pieces

    private static func lowercased(_ b: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b) ? b + 32 : b
    }

    private static func isDigit(_ b: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }

    private static func isLetter(_ b: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(lowercased(b))
    }

    /// Non-empty decimal digits, at most `maxDigits` of them, or nil.
    private static func decimal(_ digits: ArraySlice<UInt8>, maxDigits: Int) -> Int? {
        guard !digits.isEmpty, digits.count <= maxDigits, digits.allSatisfy(isDigit) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    /// Why `name` is not an IPv4 address or a host name, nil when it is one.
    private static func hostProblem(_ name: ArraySlice<UInt8>) -> String? {
        if name.allSatisfy({ isDigit($0) || $0 == UInt8(ascii: ".") }) {
            guard case .v4? = IPAddress(utf8: name) else {
                return "expected an IPv4 address a.b.c.d (each 0-255) as the host"
            }
            return nil
        }
        let hostNameRule = "expected a host name (labels of letters, digits, '-' separated by '.'), an IPv4 address or [IPv6]"
        guard name.count <= 253 else { return "host name longer than 253 characters" }
        for label in name.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63,
                label.allSatisfy({ isLetter($0) || isDigit($0) || $0 == UInt8(ascii: "-") }),
                label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-")
            else { return hostNameRule }
        }
        return nil
    }

    /// `%XX`-decoded UTF-8 text, nil on a bad escape or invalid UTF-8.
    private static func percentDecoded(_ text: ArraySlice<UInt8>) -> String? {
        func hex(_ b: UInt8) -> UInt8? {
            if isDigit(b) { return b - UInt8(ascii: "0") }
            let l = lowercased(b)
            if (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(l) { return l - UInt8(ascii: "a") + 10 }
            return nil
        }
        var out: [UInt8] = []
        out.reserveCapacity(text.count)
        var i = text.startIndex
        while i < text.endIndex {
            if text[i] == UInt8(ascii: "%") {
                guard i + 2 < text.endIndex,
                    let h = hex(text[i + 1]), let l = hex(text[i + 2])
                else { return nil }
                out.append(h << 4 | l)
                i += 3
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}

/// A Redis URL that does not parse: the text (password hidden) and what was expected.
public struct RedisURLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL as given, with any password replaced by `***` and unprintable bytes escaped.
    public let text: String
    /// What is wrong, and what was expected.
    public let reason: String

    /// Creates the error; `text` is redacted and made printable here.
    public init(text: String, _ reason: String) {
        self.text = RedisURLError.shown(text)
        self.reason = reason
    }

    /// `redis URL "TEXT": reason` on one line.
    public var description: String { "redis URL \"\(text)\": \(reason)" }

    /// Hides what stands between "://" and the last '@' (a password, or a user name and password)
    /// and escapes bytes outside printable ASCII.
    private static func shown(_ text: String) -> String {
        var bytes = Array(text.utf8)
        let marker = Array("://".utf8)
        if let at = bytes.lastIndex(of: UInt8(ascii: "@")), at >= marker.count,
            let start = (0...(at - marker.count)).first(where: { Array(bytes[$0..<($0 + marker.count)]) == marker })
        {
            let from = start + marker.count
            let hidden = bytes[from..<at].first == UInt8(ascii: ":") ? ":***" : "***"
            bytes.replaceSubrange(from..<at, with: Array(hidden.utf8))
        }
        var out = ""
        for b in bytes {
            switch b {
            case 0x20...0x7E where b != UInt8(ascii: "\\") && b != UInt8(ascii: "\""): out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                let digits = Array("0123456789abcdef".unicodeScalars)
                out += "\\x"
                out.unicodeScalars.append(digits[Int(b >> 4)])
                out.unicodeScalars.append(digits[Int(b & 15)])
            }
        }
        return out
    }
}
