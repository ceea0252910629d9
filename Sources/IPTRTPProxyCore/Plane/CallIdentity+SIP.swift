extension CallIdentity {
    /// The Call-ID and From tag of a SIP message as received (RFC 3261 §7.3: `Call-ID` or `i`,
    /// `From` or `f`, names in any case, folded lines joined). Reads the header section only
    /// (up to the first empty line, at most 64 KiB); nil when the message has no Call-ID.
    /// Never traps: any bytes give a value or nil.
    public static func parse(sipMessage bytes: [UInt8]) -> CallIdentity? {
        var callID: String?
        var fromTag: String?
        for (name, value) in headers(bytes) {
            switch name {
            case "call-id", "i":
                if callID == nil { callID = token(String(decoding: value, as: UTF8.self)) }
            case "from", "f":
                if fromTag == nil { fromTag = tag(ofFrom: value) }
            default:
                break
            }
        }
        return callID.flatMap { CallIdentity(callID: $0, fromTag: fromTag) }
    }

    /// The headers (lower-cased name, value with folded lines joined) after the first line.
    static func headers(_ bytes: [UInt8]) -> [(String, [UInt8])] {
        let end = min(bytes.count, 65536)
        var lines: [[UInt8]] = []
        var start = 0
        while start < end {
            var stop = start
            while stop < end && bytes[stop] != 10 && bytes[stop] != 13 { stop += 1 }
            let line = Array(bytes[start..<stop])
            if stop < end && bytes[stop] == 13 { stop += 1 }
            if stop < end && bytes[stop] == 10 { stop += 1 }
            start = stop
            if line.isEmpty { break }
            if (line[0] == 32 || line[0] == 9), !lines.isEmpty {
                lines[lines.count - 1] += [32] + line  // a folded continuation
            } else {
                lines.append(line)
            }
        }
        return lines.dropFirst().compactMap { line in
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
            let name = String(decoding: trimmed(line[..<colon]), as: UTF8.self).lowercased()
            return (name, Array(trimmed(line[(colon + 1)...])))
        }
    }

    /// The `tag` parameter of a From value: after the `>` of a name-addr, else after the URI.
    static func tag(ofFrom value: [UInt8]) -> String? {
        let params: ArraySlice<UInt8>
        if let close = value.lastIndex(of: UInt8(ascii: ">")) {
            params = value[(close + 1)...]
        } else if let semicolon = value.firstIndex(of: UInt8(ascii: ";")) {
            params = value[semicolon...]
        } else {
            return nil
        }
        for param in params.split(separator: UInt8(ascii: ";")) {
            let p = trimmed(param)
            guard p.count > 4 else { continue }
            let key = String(decoding: p.prefix(4), as: UTF8.self).lowercased()
            if key == "tag=" { return token(String(decoding: p.dropFirst(4), as: UTF8.self)) }
        }
        return nil
    }

    static func trimmed(_ s: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var s = s
        while let f = s.first, f == 32 || f == 9 { s = s.dropFirst() }
        while let l = s.last, l == 32 || l == 9 { s = s.dropLast() }
        return s
    }
}
