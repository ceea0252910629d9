/// Builds JSON text without Foundation: the relay's list, stats and info replies. Objects keep
/// the order in which keys are written, so replies read the same every time.
public struct JSONWriter {
    /// The text so far.
    public private(set) var bytes: [UInt8] = []
    private var needsComma = false

    /// Starts an empty document.
    public init() {}

    /// The text written.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Writes `{`, then the members `body` writes, then `}`.
    public mutating func object(_ body: (inout JSONWriter) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "}"))
        needsComma = true
    }

    /// Writes `[`, then the elements `body` writes, then `]`.
    public mutating func array(_ body: (inout JSONWriter) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma = false
        body(&self)
        bytes.append(UInt8(ascii: "]"))
        needsComma = true
    }

    /// Writes a member name; the next value written is its value.
    public mutating func key(_ name: String) {
        separate()
        appendString(name)
        bytes.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes a string value.
    public mutating func value(_ s: String) {
        separate()
        appendString(s)
        needsComma = true
    }

    /// Writes an unsigned integer value.
    public mutating func value<I: BinaryInteger>(_ n: I) {
        separate()
        bytes.append(contentsOf: String(n).utf8)
        needsComma = true
    }

    /// Writes `true` or `false`.
    public mutating func value(_ b: Bool) {
        separate()
        bytes.append(contentsOf: (b ? "true" : "false").utf8)
        needsComma = true
    }

    /// Writes `null`.
    public mutating func null() {
        separate()
        bytes.append(contentsOf: "null".utf8)
        needsComma = true
    }

    /// `key: value` for a string.
    public mutating func member(_ name: String, _ s: String) { key(name); value(s) }
    /// `key: value` for an integer.
    public mutating func member<I: BinaryInteger>(_ name: String, _ n: I) { key(name); value(n) }
    /// `key: value` for a Boolean.
    public mutating func member(_ name: String, _ b: Bool) { key(name); value(b) }
    /// `key: value`, or `key: null` when nil.
    public mutating func member(_ name: String, _ s: String?) {
        key(name)
        if let s { value(s) } else { null() }
    }
    /// `key: value`, or `key: null` when nil.
    public mutating func member<I: BinaryInteger>(_ name: String, _ n: I?) {
        key(name)
        if let n { value(n) } else { null() }
    }

    private mutating func separate() {
        if needsComma { bytes.append(UInt8(ascii: ",")) }
    }

    private mutating func appendString(_ s: String) {
        bytes.append(UInt8(ascii: "\""))
        for c in s.utf8 {
            switch c {
            case UInt8(ascii: "\""): bytes.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: "\\\\".utf8)
            case 0x0a: bytes.append(contentsOf: "\\n".utf8)
            case 0x0d: bytes.append(contentsOf: "\\r".utf8)
            case 0x09: bytes.append(contentsOf: "\\t".utf8)
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: "\\u00".utf8)
                bytes.append(hex[Int(c >> 4)])
                bytes.append(hex[Int(c & 0xf)])
            default: bytes.append(c)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
