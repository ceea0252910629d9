extension ControlProtocol {
    /// The requests a proxy sends on every call (alloc, update, delete; ping), decoded straight
    /// from the line's bytes: no `String` per word, no array of words, no copy of the line. A
    /// relay answers four of them per call, so this is the common path of `decodeRequest`.
    ///
    /// Conservative by design: it returns a request only for a line that `decodeGeneral` decodes
    /// to the same request, and nil for everything else (any error, any unusual spelling such as
    /// `+7`, any field it does not read here, such as `ice`), which then goes to `decodeGeneral`
    /// for the request or the exact error message. The property tests hold the two to that.
    static func decodeCommon(_ line: ArraySlice<UInt8>) -> ControlRequest? {
        guard line.count <= maxRequestLength else { return nil }
        var end = line.endIndex
        if end > line.startIndex && line[end - 1] == 13 { end -= 1 }
        var scanner = WordScanner(bytes: line[line.startIndex..<end])
        guard let versionWord = scanner.next(), versionWord.elementsEqual(versionBytes),
              let idWord = scanner.next(), idWord.count <= maxIDLength, idWord.allSatisfy(isIDByte),
              let verb = scanner.next()
        else { return nil }
        let id = String(decoding: idWord, as: UTF8.self)
        let command: ControlCommand
        if verb.elementsEqual("ping".utf8) {
            guard scanner.atEnd else { return nil }
            command = .ping
        } else if verb.elementsEqual("alloc".utf8) {
            guard let name = scanner.switchboard(), let request = scanner.fields() else { return nil }
            command = .alloc(switchboard: name, request: request)
        } else if verb.elementsEqual("update".utf8) {
            guard let name = scanner.switchboard(), let word = scanner.next(),
                  let (ids, created) = sessionRange(word), ids.count == 1,
                  let request = scanner.fields()
            else { return nil }
            command = .update(switchboard: name, session: SessionHandle(id: ids.lowerBound, created: created), request: request)
        } else if verb.elementsEqual("delete".utf8) {
            guard let name = scanner.switchboard(), let word = scanner.next(), scanner.atEnd,
                  let (ids, created) = sessionRange(word)
            else { return nil }
            command = .delete(switchboard: name, ids: ids, created: created)
        } else {
            return nil
        }
        return ControlRequest(id: id, command: command)
    }

    /// `version` as bytes.
    package static let versionBytes = Array(version.utf8)

    static func isIDByte(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 46 || c == 95 || c == 45
    }

    static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95 || c == 45
    }

    /// Decimal digits only (no sign), at most `limit`; nil otherwise.
    static func decimal(_ bytes: ArraySlice<UInt8>, limit: UInt64) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        var value: UInt64 = 0
        for c in bytes {
            guard c >= 48 && c <= 57 else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(c - 48))
            guard !o1, !o2, sum <= limit else { return nil }
            value = sum
        }
        return value
    }

    /// `ID/CREATED` or `FIRST-LAST/CREATED` in plain digits, as `decodeSessionRange` reads them.
    static func sessionRange(_ word: ArraySlice<UInt8>) -> (ClosedRange<Int>, UInt32)? {
        guard let slash = word.firstIndex(of: UInt8(ascii: "/")),
              let created = decimal(word[(slash + 1)...], limit: UInt64(UInt32.max))
        else { return nil }
        let ids = word[..<slash]
        let first: UInt64, last: UInt64
        if let dash = ids.firstIndex(of: UInt8(ascii: "-")) {
            guard let f = decimal(ids[..<dash], limit: 65535), let l = decimal(ids[(dash + 1)...], limit: 65535) else { return nil }
            (first, last) = (f, l)
        } else {
            guard let f = decimal(ids, limit: 65535) else { return nil }
            (first, last) = (f, f)
        }
        guard first <= last else { return nil }
        return (Int(first)...Int(last), UInt32(created))
    }

    /// The words of one line, separated by single spaces, taken one at a time.
    struct WordScanner {
        let bytes: ArraySlice<UInt8>
        /// Where the next word starts.
        var position: Int
        /// The last word was taken.
        private(set) var atEnd = false

        init(bytes: ArraySlice<UInt8>) {
            self.bytes = bytes
            position = bytes.startIndex
        }

        /// The next word; nil at the end, and for an empty word (a leading, doubled or final space)
        /// or a byte that is not printable ASCII: the general decoder says what is wrong.
        mutating func next() -> ArraySlice<UInt8>? {
            guard !atEnd else { return nil }
            var i = position
            while i < bytes.endIndex {
                let c = bytes[i]
                if c == 32 { break }
                guard c > 0x20 && c < 0x7f else { return nil }
                i += 1
            }
            guard i > position else { return nil }
            let word = bytes[position..<i]
            if i == bytes.endIndex {
                atEnd = true
            } else {
                position = i + 1
                if position == bytes.endIndex { return nil }
            }
            return word
        }

        /// The switchboard name word.
        mutating func switchboard() -> String? {
            guard let word = next(), word.count <= SwitchboardConfigParser.maxNameLength, word.allSatisfy(ControlProtocol.isNameByte) else {
                return nil
            }
            return String(decoding: word, as: UTF8.self)
        }

        /// The remaining words as the fields of alloc and update (`encodeFields`' words).
        mutating func fields() -> SessionRequest? {
            var request = SessionRequest()
            var seen: UInt32 = 0
            var callID: String?, fromTag: String?
            while !atEnd {
                guard let word = next(), let eq = word.firstIndex(of: UInt8(ascii: "=")) else { return nil }
                let key = word[..<eq], value = word[(eq + 1)...]
                guard let field = ControlProtocol.commonField(key) else { return nil }
                let bit: UInt32 = 1 << field.rawValue
                guard seen & bit == 0 else { return nil }
                seen |= bit
                let side = field.side
                switch field.name {
                case .callID, .fromTag:
                    guard (1...CallIdentity.maxLength).contains(value.count) else { return nil }
                    let text = String(decoding: value, as: UTF8.self)
                    if field.name == .callID { callID = text } else { fromTag = text }
                case .alwaysLearn:
                    guard value.count == 1, let c = value.first, c == 48 || c == 49 else { return nil }
                    request[side].alwaysLearn = c == 49
                case .signal:
                    guard let address = IPAddress(utf8: value) else { return nil }
                    request[side].signal = address
                case .rtp, .rtcp:
                    guard let endpoint = ControlProtocol.parseEndpoint(utf8: value) else { return nil }
                    request[side].streams[field.name == .rtp ? 0 : 1].address = endpoint
                case .rtpLearning, .rtcpLearning:
                    guard let t = ControlProtocol.decimal(value, limit: UInt64(UInt32.max)) else { return nil }
                    request[side].streams[field.name == .rtpLearning ? 0 : 1].learningTimeout = UInt32(t)
                }
            }
            if let callID { request.call = CallIdentity(callID: callID, fromTag: fromTag) } else if fromTag != nil { return nil }
            return request
        }
    }

    /// A field `decodeCommon` reads: its name and side, numbered for a bit set of those seen.
    struct CommonField {
        enum Name: UInt32 { case callID, fromTag, alwaysLearn, signal, rtp, rtcp, rtpLearning, rtcpLearning }
        let name: Name
        let side: GateSide
        /// call-id and from-tag: 0 and 1; a side's fields: 2-7 (a), 8-13 (b).
        var rawValue: UInt32 {
            switch name {
            case .callID: return 0
            case .fromTag: return 1
            default: return name.rawValue + (side == .a ? 0 : 6)
            }
        }
    }

    static func commonField(_ key: ArraySlice<UInt8>) -> CommonField? {
        if key.elementsEqual("call-id".utf8) { return CommonField(name: .callID, side: .a) }
        if key.elementsEqual("from-tag".utf8) { return CommonField(name: .fromTag, side: .a) }
        guard key.count > 2, key[key.startIndex + 1] == UInt8(ascii: ".") else { return nil }
        let side: GateSide
        switch key.first {
        case UInt8(ascii: "a"): side = .a
        case UInt8(ascii: "b"): side = .b
        default: return nil
        }
        let name = key.dropFirst(2)
        let n: CommonField.Name
        if name.elementsEqual("rtp".utf8) { n = .rtp }
        else if name.elementsEqual("rtcp".utf8) { n = .rtcp }
        else if name.elementsEqual("always-learn".utf8) { n = .alwaysLearn }
        else if name.elementsEqual("rtp-learning".utf8) { n = .rtpLearning }
        else if name.elementsEqual("rtcp-learning".utf8) { n = .rtcpLearning }
        else if name.elementsEqual("signal".utf8) { n = .signal }
        else { return nil }
        return CommonField(name: n, side: side)
    }
}
