/// An answer of the host's RPC commands as a neutral tree: objects with named members, arrays,
/// text and whole numbers. The glue walks it with the host's own calls (Kamailio's `rpc->add`,
/// `struct_add`, `array_add`), so every RPC transport (kamcmd's binrpc, JSON-RPC) gets fields,
/// not preformatted lines.
enum RPCValue: Equatable, Sendable {
    /// Members in the order they are shown.
    case object([RPCMember])
    /// Elements in order.
    case array([RPCValue])
    /// Text.
    case text(String)
    /// A whole number; counters beyond Int64 are clamped.
    case number(Int64)

    /// A number from any integer type (clamped to Int64).
    static func count<I: BinaryInteger>(_ value: I) -> RPCValue { .number(Int64(clamping: value)) }

    /// The member called `name` of an object, or nil.
    subscript(name: String) -> RPCValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.name == name }?.value
    }

    /// The elements of an array (empty for anything else).
    var elements: [RPCValue] {
        if case .array(let a) = self { return a }
        return []
    }

    /// The number, or nil.
    var numberValue: Int64? {
        if case .number(let n) = self { return n }
        return nil
    }

    /// The text, or nil.
    var textValue: String? {
        if case .text(let t) = self { return t }
        return nil
    }

    /// How many nodes the tree has (itself included): what the host's calls cost.
    var nodeCount: Int {
        switch self {
        case .object(let members): return 1 + members.reduce(0) { $0 + $1.value.nodeCount }
        case .array(let elements): return 1 + elements.reduce(0) { $0 + $1.nodeCount }
        case .text, .number: return 1
        }
    }
}

/// One named member of an `RPCValue.object`.
struct RPCMember: Equatable, Sendable {
    /// The member's name (`sessions-active`); no NUL inside.
    var name: String
    /// Its value.
    var value: RPCValue

    /// A member.
    init(_ name: String, _ value: RPCValue) {
        self.name = name
        self.value = value
    }
}

/// Why an RPC command gave no answer: a code the host passes on as the RPC fault's code (400 for
/// bad parameters, 500 when the answer could not be made, 501 for a command this proxy's relay
/// has no data for, 503 when no relay answers) and one line of text.
struct RPCFault: Error, Equatable, CustomStringConvertible {
    /// The fault's code.
    var code: Int32
    /// What went wrong, and what to send instead.
    var message: String

    /// A fault.
    init(_ code: Int32, _ message: String) {
        self.code = code
        self.message = message
    }

    var description: String { "\(code) \(message)" }

    /// Bad parameters.
    static func badParameter(_ message: String) -> RPCFault { RPCFault(400, message) }
}
