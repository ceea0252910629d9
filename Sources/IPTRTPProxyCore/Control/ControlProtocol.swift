/// The wire form of the control protocol, version 2 (docs/control-protocol.md): one request per
/// line, one reply line per request, fields separated by single spaces.
///
///     iptrtp/2 <id> <verb> [arguments]            request
///     iptrtp/2 <id> ok [payload]                  reply: success
///     iptrtp/2 <id> error <message>               reply: failure
///
/// A text protocol so that an operator can talk to a relay with `socat` and read a capture;
/// lines so that a stream socket needs no further framing. Decoding never traps: any byte
/// string yields a request or a `ControlProtocolError`.
public enum ControlProtocol {
    /// The version token that starts every line.
    public static let version = "iptrtp/2"
    /// Longest request line accepted, newline excluded. Requests are short; a longer line is an error.
    public static let maxRequestLength = 4096
    /// Longest id.
    public static let maxIDLength = 32

    // MARK: Requests

    /// The request as one line, without the newline.
    public static func encode(_ request: ControlRequest) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(160)
        func word(_ text: String) {
            out.append(32)
            out.append(contentsOf: text.utf8)
        }
        out.append(contentsOf: versionBytes)
        word(request.id)
        word(request.command.verb)
        switch request.command {
        case .ping, .info, .stats, .subscribe:
            break
        case .auth(let nonce, let proof):
            word(nonce)
            word(proof)
        case .list(let switchboard):
            if let switchboard { word(switchboard) }
        case .alloc(let switchboard, let r):
            word(switchboard)
            appendFields(r, to: &out)
        case .update(let switchboard, let session, let r):
            word(switchboard)
            word("\(session.id)/\(session.created)")
            appendFields(r, to: &out)
        case .delete(let switchboard, let ids, let created):
            word(switchboard)
            let range = ids.count == 1 ? "\(ids.lowerBound)" : "\(ids.lowerBound)-\(ids.upperBound)"
            word("\(range)/\(created)")
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Reads one request line (without its newline; a trailing CR is ignored).
    public static func decodeRequest<Bytes: Collection>(_ line: Bytes) throws -> ControlRequest where Bytes.Element == UInt8 {
        try decodeRequest(Array(line)[...])
    }

    /// `decodeRequest` of a line in an array.
    public static func decodeRequest(_ line: [UInt8]) throws -> ControlRequest {
        try decodeRequest(line[...])
    }

    /// `decodeRequest` of a line in a buffer (the relay's read buffer): neither copied nor cast.
    public static func decodeRequest(_ line: ArraySlice<UInt8>) throws -> ControlRequest {
        if let request = decodeCommon(line) { return request }
        return try decodeGeneral(line)
    }

    /// Reads any request line, and says exactly what is wrong with one that does not decode.
    static func decodeGeneral(_ line: ArraySlice<UInt8>) throws -> ControlRequest {
        guard line.count <= maxRequestLength else {
            throw ControlProtocolError(id: nil, "request longer than \(maxRequestLength) bytes")
        }
        var bytes = Array(line)
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) else {
            throw ControlProtocolError(id: nil, "request must be printable ASCII")
        }
        let words = bytes.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        guard words.count >= 2, words[0] == version else {
            throw ControlProtocolError(id: nil, "expected '\(version) <id> <command> ...' (this relay speaks \(version))")
        }
        let id = words[1]
        guard isValidID(id) else {
            throw ControlProtocolError(id: nil, "request id must be 1-\(maxIDLength) characters of A-Z a-z 0-9 . _ -")
        }
        func fail(_ message: String) -> ControlProtocolError { ControlProtocolError(id: id, message) }
        guard words.count >= 3 else { throw fail("missing command") }
        let args = Array(words[3...])
        if args.contains(where: \.isEmpty) { throw fail("arguments are separated by single spaces") }
        func count(_ range: ClosedRange<Int>, _ usage: String) throws {
            guard range.contains(args.count) else { throw fail("usage: \(usage)") }
        }
        let command: ControlCommand
        switch words[2] {
        case "ping":
            try count(0...0, "ping")
            command = .ping
        case "auth":
            try count(2...2, "auth CLIENT-NONCE CLIENT-PROOF")
            command = .auth(nonce: args[0], proof: args[1])
        case "info":
            try count(0...0, "info")
            command = .info
        case "stats":
            try count(0...0, "stats")
            command = .stats
        case "list":
            try count(0...1, "list [SWITCHBOARD]")
            if let name = args.first { try checkSwitchboard(name, fail) }
            command = .list(switchboard: args.first)
        case "alloc":
            guard args.count >= 1 else { throw fail("usage: alloc SWITCHBOARD [FIELD=VALUE]...") }
            try checkSwitchboard(args[0], fail)
            command = .alloc(switchboard: args[0], request: try decodeFields(args.dropFirst(), fail))
        case "update":
            guard args.count >= 2 else { throw fail("usage: update SWITCHBOARD ID/CREATED [FIELD=VALUE]...") }
            try checkSwitchboard(args[0], fail)
            let (ids, created) = try decodeSessionRange(args[1], fail)
            guard ids.count == 1 else { throw fail("update takes one session, not a range") }
            command = .update(
                switchboard: args[0], session: SessionHandle(id: ids.lowerBound, created: created),
                request: try decodeFields(args.dropFirst(2), fail))
        case "delete":
            try count(2...2, "delete SWITCHBOARD FIRST[-LAST]/CREATED")
            try checkSwitchboard(args[0], fail)
            let (ids, created) = try decodeSessionRange(args[1], fail)
            command = .delete(switchboard: args[0], ids: ids, created: created)
        case "subscribe":
            try count(0...0, "subscribe")
            command = .subscribe
        default:
            throw fail("unknown command '\(words[2].prefix(40))' (expected ping, auth, info, list, stats, alloc, update, delete, subscribe)")
        }
        return ControlRequest(id: id, command: command)
    }

    // MARK: Replies

    /// The reply as one line, without the newline. Newlines inside a message become spaces, so a
    /// reply is always exactly one line.
    public static func encode(_ reply: ControlReply) -> String {
        var out: [UInt8] = []
        appendReply(reply, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `encode(reply)`'s bytes appended to `out` (the relay writes its replies straight into a
    /// connection's output buffer: four per call).
    package static func appendReply(_ reply: ControlReply, to out: inout [UInt8]) {
        out.append(contentsOf: versionBytes)
        out.append(32)
        out.append(contentsOf: reply.id.utf8)
        switch reply.outcome {
        case .ok(let payload):
            out.append(contentsOf: okBytes)
            if !payload.isEmpty { appendOneLine(payload, to: &out) }
        case .error(let message):
            out.append(contentsOf: errorBytes)
            appendOneLine(message, to: &out)
        }
    }

    private static let okBytes = Array(" ok".utf8)
    private static let errorBytes = Array(" error".utf8)

    /// A space and `text` with its line breaks made spaces.
    private static func appendOneLine(_ text: String, to out: inout [UInt8]) {
        out.append(32)
        for c in text.utf8 { out.append(c == 10 || c == 13 ? 32 : c) }
    }

    /// Reads one reply line (without its newline).
    public static func decodeReply<Bytes: Collection>(_ line: Bytes) throws -> ControlReply where Bytes.Element == UInt8 {
        var bytes = Array(line)
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        let parts = bytes.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
            .map { String(decoding: $0, as: UTF8.self) }
        guard parts.count >= 3, parts[0] == version else {
            throw ControlProtocolError(id: nil, "reply is not '\(version) <id> ok|error ...'")
        }
        let payload = parts.count == 4 ? parts[3] : ""
        switch parts[2] {
        case "ok": return ControlReply(id: parts[1], outcome: .ok(payload))
        case "error": return ControlReply(id: parts[1], outcome: .error(payload))
        default: throw ControlProtocolError(id: parts[1], "reply status must be ok or error, not '\(parts[2].prefix(20))'")
        }
    }

    // MARK: Events

    /// The event as one line, without the newline: `iptrtp/2 - event expired SWITCHBOARD ID/CREATED`.
    public static func encode(_ event: ControlEvent) -> String {
        switch event {
        case .expired(let switchboard, let session):
            return "\(version) - event expired \(switchboard) \(session.id)/\(session.created)"
        }
    }

    /// Whether a line from the relay is an event line (`iptrtp/2 - event ...`) rather than a reply.
    public static func isEvent<Bytes: Collection>(_ line: Bytes) -> Bool where Bytes.Element == UInt8 {
        line.starts(with: Array("\(version) - event ".utf8))
    }

    /// Reads one event line (without its newline; a trailing CR is ignored).
    public static func decodeEvent<Bytes: Collection>(_ line: Bytes) throws -> ControlEvent where Bytes.Element == UInt8 {
        var bytes = Array(line)
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        let words = bytes.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false).map {
            String(decoding: $0, as: UTF8.self)
        }
        func fail(_ why: String) -> ControlProtocolError { ControlProtocolError(id: nil, "event line: \(why)") }
        guard words.count >= 4, words[0] == version, words[1] == "-", words[2] == "event" else {
            throw fail("not '\(version) - event KIND ...'")
        }
        switch words[3] {
        case "expired":
            guard words.count == 6 else { throw fail("usage: event expired SWITCHBOARD ID/CREATED") }
            try checkSwitchboard(words[4]) { fail($0) }
            let (ids, created) = try decodeSessionRange(words[5]) { fail($0) }
            guard ids.count == 1 else { throw fail("expired names one session, not a range") }
            return .expired(switchboard: words[4], session: SessionHandle(id: ids.lowerBound, created: created))
        default:
            throw fail("unknown event '\(words[3].prefix(40))'")
        }
    }

    /// The payload of an alloc reply: `ID/CREATED PORT_A PORT_B`.
    public static func encode(_ allocated: AllocatedSession) -> String {
        "\(allocated.handle.id)/\(allocated.handle.created) \(allocated.rtpPorts[0]) \(allocated.rtpPorts[1])"
    }

    /// Reads the payload of an alloc reply.
    public static func decodeAllocated(_ payload: String) throws -> AllocatedSession {
        let words = payload.split(separator: " ").map(String.init)
        func fail() -> ControlProtocolError { ControlProtocolError(id: nil, "alloc reply '\(payload.prefix(60))' is not 'ID/CREATED PORT_A PORT_B'") }
        guard words.count == 3, let a = UInt16(words[1]), let b = UInt16(words[2]) else { throw fail() }
        let (ids, created) = try decodeSessionRange(words[0]) { _ in fail() }
        guard ids.count == 1 else { throw fail() }
        return AllocatedSession(handle: SessionHandle(id: ids.lowerBound, created: created), rtpPorts: [a, b])
    }

    // MARK: Pieces

    static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= maxIDLength && id.utf8.allSatisfy { c in
            (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 46 || c == 95 || c == 45
        }
    }

    static func checkSwitchboard(_ name: String, _ fail: (String) -> ControlProtocolError) throws {
        guard SwitchboardConfigParser.isValidName(name) else {
            throw fail("switchboard name '\(name.prefix(40))' must be 1-\(SwitchboardConfigParser.maxNameLength) characters of A-Z a-z 0-9 _ -")
        }
    }

    /// `ID/CREATED` or `FIRST-LAST/CREATED`.
    static func decodeSessionRange(_ text: String, _ fail: (String) -> ControlProtocolError) throws -> (ClosedRange<Int>, UInt32) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let created = UInt32(parts[1]) else {
            throw fail("session '\(text.prefix(40))' must be ID/CREATED or FIRST-LAST/CREATED")
        }
        let bounds = parts[0].split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(bounds.count),
              let first = Int(bounds[0]), let last = Int(bounds[bounds.count - 1]),
              first >= 0, first <= last, last <= 65535
        else {
            throw fail("session '\(text.prefix(40))' must be ID/CREATED or FIRST-LAST/CREATED with 0 <= FIRST <= LAST <= 65535")
        }
        return (first...last, created)
    }

    /// The request's fields as `side.key=value` words; a side that says nothing gets no word,
    /// a side that says anything always carries its `always-learn` (update replaces it). ICE
    /// credentials (`side.ice`) go alone: they say nothing about the client.
    /// Also the form in which the relay journals requests.
    public static func encodeFields(_ request: SessionRequest) -> [String] {
        var bytes: [UInt8] = []
        appendFields(request, to: &bytes)
        // Values hold no space (tokens, addresses, numbers): the words are the spaced parts.
        return bytes.split(separator: 32).map { String(decoding: $0, as: UTF8.self) }
    }

    /// `encodeFields`' words, each with a space before it, appended to `out`: the relay journals
    /// every change in this form, so it is written as bytes, not assembled from strings.
    package static func appendFields(_ request: SessionRequest, to out: inout [UInt8]) {
        func word(_ key: StaticString, _ side: GateSide? = nil) {
            out.append(32)
            if let side { out.append(side == .a ? UInt8(ascii: "a") : UInt8(ascii: "b")); out.append(UInt8(ascii: ".")) }
            key.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(UInt8(ascii: "="))
        }
        if let call = request.call {
            word("call-id")
            out.append(contentsOf: call.callID.utf8)
            if let tag = call.fromTag {
                word("from-tag")
                out.append(contentsOf: tag.utf8)
            }
        }
        for side in GateSide.allCases {
            let source = request[side]
            if let ice = source.ice {
                word("ice", side)
                out.append(contentsOf: ice.description.utf8)
            }
            if source.isEmpty { continue }
            word("always-learn", side)
            out.append(source.alwaysLearn ? UInt8(ascii: "1") : UInt8(ascii: "0"))
            if let signal = source.signal {
                word("signal", side)
                appendAddress(signal, to: &out)
            }
            for j in 0..<2 {
                let stream = source.streams[j]
                if let a = stream.address {
                    word(j == 0 ? "rtp" : "rtcp", side)
                    if case .v6 = a.address { out.append(UInt8(ascii: "[")) }
                    appendAddress(a.address, to: &out)
                    if case .v6 = a.address { out.append(UInt8(ascii: "]")) }
                    out.append(UInt8(ascii: ":"))
                    appendDecimal(UInt64(a.port), to: &out)
                }
                if let t = stream.learningTimeout {
                    word(j == 0 ? "rtp-learning" : "rtcp-learning", side)
                    appendDecimal(UInt64(t), to: &out)
                }
            }
        }
    }

    /// An address as `IPAddress.description` writes it; IPv4 without building a string.
    static func appendAddress(_ address: IPAddress, to out: inout [UInt8]) {
        guard case .v4(let v) = address else {
            out.append(contentsOf: address.description.utf8)
            return
        }
        for shift in stride(from: 24, through: 0, by: -8) {
            appendDecimal(UInt64((v >> UInt32(shift)) & 0xff), to: &out)
            if shift > 0 { out.append(UInt8(ascii: ".")) }
        }
    }

    /// `n` in decimal digits.
    package static func appendDecimal(_ n: UInt64, to out: inout [UInt8]) {
        guard n >= 10 else {
            out.append(UInt8(48 + n))
            return
        }
        appendDecimal(n / 10, to: &out)
        out.append(UInt8(48 + n % 10))
    }

    /// Reads words written by `encodeFields`.
    public static func decodeFields(_ words: ArraySlice<String>) throws -> SessionRequest {
        try decodeFields(words) { ControlProtocolError(id: nil, $0) }
    }

    static func decodeFields(_ words: ArraySlice<String>, _ fail: (String) -> ControlProtocolError) throws -> SessionRequest {
        var request = SessionRequest()
        // A handful of short keys: a list is cheaper than hashing them into a set.
        var seen: [String] = []
        seen.reserveCapacity(words.count)
        var callID: String?, fromTag: String?
        for word in words {
            guard let eq = word.utf8.firstIndex(of: UInt8(ascii: "=")) else { throw fail("field '\(word.prefix(40))' is not KEY=VALUE") }
            let key = String(word[..<eq]), value = String(word[word.utf8.index(after: eq)...])
            guard !seen.contains(key) else { throw fail("field '\(key.prefix(40))' given twice") }
            seen.append(key)
            if key == "call-id" || key == "from-tag" {
                guard CallIdentity.isToken(value) else {
                    throw fail("\(key) must be 1-\(CallIdentity.maxLength) printable characters without spaces")
                }
                if key == "call-id" { callID = value } else { fromTag = value }
                continue
            }
            let dot = key.utf8.firstIndex(of: UInt8(ascii: "."))
            let prefix = dot.map { key[..<$0] } ?? ""
            let name = dot.map { String(key[key.utf8.index(after: $0)...]) } ?? ""
            guard !name.isEmpty, let side = prefix == "a" ? GateSide.a : prefix == "b" ? GateSide.b : nil else {
                throw fail("field '\(key.prefix(40))' must start with a. or b.")
            }
            switch name {
            case "always-learn":
                guard value == "0" || value == "1" else { throw fail("\(key) must be 0 or 1") }
                request[side].alwaysLearn = value == "1"
            case "signal":
                guard let address = IPAddress(value) else {
                    throw fail("\(key) must be an IPv4 or IPv6 address, not '\(value.prefix(60))'")
                }
                request[side].signal = address
            case "rtp", "rtcp":
                guard let endpoint = parseEndpoint(value) else {
                    throw fail("\(key) must be ADDRESS:PORT or [IPV6]:PORT, not '\(value.prefix(60))'")
                }
                request[side].streams[name == "rtp" ? 0 : 1].address = endpoint
            case "ice":
                guard let credentials = ICECredentials(parsing: value) else {
                    throw fail("\(key) must be UFRAG:PASSWORD of ice-chars (ufrag 4-32, password 22-64), not '\(value.prefix(60))'")
                }
                request[side].ice = credentials
            case "rtp-learning", "rtcp-learning":
                guard let t = UInt32(value) else { throw fail("\(key) must be seconds, not '\(value.prefix(20))'") }
                request[side].streams[name == "rtp-learning" ? 0 : 1].learningTimeout = t
            default:
                throw fail("unknown field '\(key.prefix(40))' (expected call-id, from-tag, or a./b. always-learn, signal, rtp, rtcp, rtp-learning, rtcp-learning, ice)")
            }
        }
        if let callID { request.call = CallIdentity(callID: callID, fromTag: fromTag) } else if fromTag != nil { throw fail("from-tag needs call-id") }
        return request
    }

    /// `192.0.2.1:4000` or `[2001:db8::1]:4000`.
    public static func parseEndpoint(_ text: String) -> Endpoint? {
        parseEndpoint(utf8: Array(text.utf8)[...])
    }

    /// `parseEndpoint` on UTF-8 bytes.
    public static func parseEndpoint(utf8 bytes: ArraySlice<UInt8>) -> Endpoint? {
        // On the bytes, not Characters: every control request names several (an alloc costs
        // microseconds less), and only ASCII can be an endpoint anyway.
        let address: IPAddress?
        let portBytes: ArraySlice<UInt8>
        if bytes.first == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close + 1 < bytes.endIndex,
                  bytes[close + 1] == UInt8(ascii: ":") else { return nil }
            address = IPAddress(utf8: bytes[(bytes.startIndex + 1)..<close])
            portBytes = bytes[(close + 2)...]
            if case .v4 = address { return nil }
        } else {
            guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")) else { return nil }
            address = IPAddress(utf8: bytes[..<colon])
            portBytes = bytes[(colon + 1)...]
            if case .v6 = address { return nil }
        }
        guard let address, !portBytes.isEmpty else { return nil }
        var port: UInt32 = 0
        for c in portBytes {
            guard c >= 48 && c <= 57 else { return nil }
            port = port * 10 + UInt32(c - 48)
            guard port <= UInt32(UInt16.max) else { return nil }
        }
        return Endpoint(address: address, port: UInt16(port))
    }
}
