/// Finds the SDP inside a SIP message body: the whole body for `application/sdp`, or the
/// `application/sdp` part of a `multipart/*` body (RFC 2046).
public enum SDPBodyPart {
    /// The byte range of the SDP inside `body`, or nil when there is none. `contentType` is the
    /// message's Content-Type header value; nil means "not given" and the body counts as SDP when it
    /// starts with `v=`.
    public static func locate(body: [UInt8], contentType: String?) -> Range<Int>? {
        guard let contentType else {
            return body.starts(with: Array("v=".utf8)) ? 0..<body.count : nil
        }
        let (type, params) = splitMediaType(contentType)
        if type == "application/sdp" { return 0..<body.count }
        guard type.hasPrefix("multipart/"), let boundary = params["boundary"], !boundary.isEmpty else {
            return nil
        }
        return locateInMultipart(body, boundary: Array(boundary.utf8))
    }

    /// `type/subtype` lowered, and the parameters with lowered names and unquoted values.
    static func splitMediaType(_ value: String) -> (String, [String: String]) {
        let parts = value.split(separator: ";", omittingEmptySubsequences: false)
        let type = parts[0].trimmingBlanks.asciiLowercased
        var params: [String: String] = [:]
        for p in parts.dropFirst() {
            guard let eq = p.firstIndex(of: "=") else { continue }
            let name = p[..<eq].trimmingBlanks.asciiLowercased
            var v = p[p.index(after: eq)...].trimmingBlanks
            if v.count >= 2, v.hasPrefix("\""), v.hasSuffix("\"") { v = String(v.dropFirst().dropLast()) }
            params[name] = v
        }
        return (type, params)
    }

    static func locateInMultipart(_ body: [UInt8], boundary: [UInt8]) -> Range<Int>? {
        let delimiter = Array("--".utf8) + boundary
        var starts: [Int] = []      // index of each delimiter line
        var i = 0
        while let d = find(delimiter, in: body, from: i) {
            // A delimiter stands at the start of the body or right after a line break.
            if d == 0 || body[d - 1] == 0x0A { starts.append(d) }
            i = d + delimiter.count
        }
        guard starts.count >= 2 else { return nil }
        for (k, d) in starts.dropLast().enumerated() {
            // The part runs from after the delimiter line to the line break before the next delimiter.
            var partStart = d + delimiter.count
            if partStart + 1 < body.count && body[partStart] == UInt8(ascii: "-") && body[partStart + 1] == UInt8(ascii: "-") {
                return nil  // closing delimiter
            }
            while partStart < body.count && body[partStart] != 0x0A { partStart += 1 }
            partStart += 1
            var partEnd = starts[k + 1]
            if partEnd > 0 && body[partEnd - 1] == 0x0A { partEnd -= 1 }
            if partEnd > 0 && body[partEnd - 1] == 0x0D { partEnd -= 1 }
            guard partStart <= partEnd else { continue }
            if let sdp = sdpInPart(body, partStart..<partEnd) { return sdp }
        }
        return nil
    }

    /// Reads the part's headers; returns its body range when its Content-Type is application/sdp.
    static func sdpInPart(_ body: [UInt8], _ part: Range<Int>) -> Range<Int>? {
        var i = part.lowerBound
        var isSDP = false
        while i < part.upperBound {
            var e = i
            while e < part.upperBound && body[e] != 0x0A { e += 1 }
            var lineEnd = e
            if lineEnd > i && body[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            let next = min(e + 1, part.upperBound)
            if lineEnd == i {
                return isSDP ? next..<part.upperBound : nil   // blank line: headers end
            }
            let line = String(decoding: body[i..<lineEnd], as: UTF8.self)
            if let colon = line.firstIndex(of: ":"),
               line[..<colon].trimmingBlanks.asciiLowercased == "content-type" {
                isSDP = splitMediaType(String(line[line.index(after: colon)...])).0 == "application/sdp"
            }
            i = next
        }
        return nil
    }

    static func find(_ needle: [UInt8], in hay: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, hay.count >= needle.count else { return nil }
        var i = from
        while i + needle.count <= hay.count {
            if hay[i] == needle[0] && hay[i..<(i + needle.count)].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

extension StringProtocol {
    /// The text without leading and trailing spaces and tabs.
    var trimmingBlanks: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return String(s)
    }
}
