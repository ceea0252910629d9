import IPTRTPProxyCore

/// Elements bound for one map: keys (and data) packed back to back in the layout the kernel takes
/// them in (network byte order, each key field padded to 4 bytes).
struct ElementList: Equatable {
    /// The map.
    let map: OffloadMap
    /// Keys, `map.keyLength` bytes each.
    private(set) var keys: [UInt8] = []
    /// Data, `map.data.length` bytes each (empty for a delete).
    private(set) var data: [UInt8] = []
    /// Number of elements.
    private(set) var count = 0

    init(_ map: OffloadMap) { self.map = map }

    /// Appends an element: its key fields and, for an add, its datum.
    mutating func append(key fields: [[UInt8]], data datum: [UInt8]? = nil) {
        precondition(fields.map(\.count) == map.key.map(\.length))
        for f in fields { keys += f + Array(repeating: 0, count: 4 - f.count) }
        if let datum {
            precondition(datum.count == map.data.length)
            data += datum
        }
        count += 1
    }

    /// The elements in nft's notation, e.g. `192.0.2.10 . 30000 . 203.0.113.2 . 4000 : 198.51.100.2`.
    var rendered: [String] {
        (0..<count).map { i in
            let key = Self.render(keyBytes: Array(keys[i * map.keyLength..<(i + 1) * map.keyLength]), map.key)
            guard !data.isEmpty else { return key }
            let n = map.data.length
            return key + " : " + Self.render(Array(data[i * n..<(i + 1) * n]), map.data)
        }
    }

    /// A key as nft prints it: fields joined by ` . `.
    static func render(keyBytes: [UInt8], _ fields: [OffloadMap.Field]) -> String {
        fields.enumerated().map { i, f in render(Array(keyBytes[4 * i..<4 * i + f.length]), f) }.joined(separator: " . ")
    }

    /// One field's value as text.
    static func render(_ bytes: [UInt8], _ field: OffloadMap.Field) -> String {
        switch field {
        case .address: return "\(bytes[0]).\(bytes[1]).\(bytes[2]).\(bytes[3])"
        case .port: return "\(UInt16(bytes[0]) << 8 | UInt16(bytes[1]))"
        }
    }
}

/// Encodings of the values the maps hold, network byte order.
enum ElementBytes {
    /// A port.
    static func port(_ p: UInt16) -> [UInt8] { [UInt8(p >> 8), UInt8(p & 0xff)] }

    /// An IPv4 address; nil for IPv6 (the offload table is `ip`: IPv4 only).
    static func address(_ a: IPAddress) -> [UInt8]? {
        guard case .v4(let v) = a else { return nil }
        return [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
    }
}
