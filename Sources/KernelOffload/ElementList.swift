import IPTRTPProxyCore

/// Elements bound for one map: keys (and data) packed back to back in the layout the kernel takes
/// them in (network byte order; in a concatenation each field padded to 4 bytes).
struct ElementList: Equatable {
    /// The map.
    let map: OffloadMap
    /// Keys, `map.keyLength` bytes each.
    private(set) var keys: [UInt8] = []
    /// Data, `map.dataLength` bytes each (empty for a delete).
    private(set) var data: [UInt8] = []
    /// Number of elements.
    private(set) var count = 0

    init(_ map: OffloadMap) { self.map = map }

    /// Appends an element: its key fields and, for an add, its data fields.
    mutating func append(key: [[UInt8]], data datum: [[UInt8]]? = nil) {
        keys += Self.pack(key, map.key)
        if let datum { data += Self.pack(datum, map.data) }
        count += 1
    }

    private static func pack(_ values: [[UInt8]], _ fields: [OffloadMap.Field]) -> [UInt8] {
        precondition(values.map(\.count) == fields.map(\.length))
        if values.count == 1 { return values[0] }
        return values.flatMap { $0 + Array(repeating: 0, count: 4 - $0.count) }
    }

    /// The elements in nft's notation, except that a port pair shows as its two ports and an
    /// interface as `#` and its index: e.g. `192.0.2.10 . 30000 . 203.0.113.2 . 4000 :
    /// 192.0.2.10 . 198.51.100.2 . 30002 . 6000 . #3 . 198.51.100.2`.
    var rendered: [String] {
        (0..<count).map { i in
            let key = Self.render(Array(keys[i * map.keyLength..<(i + 1) * map.keyLength]), map.key)
            guard !data.isEmpty else { return key }
            return key + " : " + Self.render(Array(data[i * map.dataLength..<(i + 1) * map.dataLength]), map.data)
        }
    }

    /// Packed values as nft prints them: fields joined by ` . `.
    static func render(_ bytes: [UInt8], _ fields: [OffloadMap.Field]) -> String {
        let stride = fields.count == 1 ? 0 : 4
        return fields.enumerated().map { i, f in
            let b = Array(bytes[stride * i..<stride * i + f.length])
            switch f {
            case .address: return "\(b[0]).\(b[1]).\(b[2]).\(b[3])"
            case .port: return "\(UInt16(b[0]) << 8 | UInt16(b[1]))"
            case .portPair: return "\(UInt16(b[0]) << 8 | UInt16(b[1])) . \(UInt16(b[2]) << 8 | UInt16(b[3]))"
            case .interface: return "#\(b.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) })"
            }
        }.joined(separator: " . ")
    }
}

/// Encodings of the values the maps hold, network byte order.
enum ElementBytes {
    /// A port.
    static func port(_ p: UInt16) -> [UInt8] { [UInt8(p >> 8), UInt8(p & 0xff)] }

    /// A source port and a destination port, as they follow each other in the UDP header.
    static func portPair(_ source: UInt16, _ destination: UInt16) -> [UInt8] { port(source) + port(destination) }

    /// An interface index, in host byte order (nf_tables reads it as a native 32-bit number).
    static func interface(_ index: UInt32) -> [UInt8] { withUnsafeBytes(of: index) { Array($0) } }

    /// An IPv4 address; nil for IPv6 (the offload table is `ip`: IPv4 only).
    static func address(_ a: IPAddress) -> [UInt8]? {
        guard case .v4(let v) = a else { return nil }
        return [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
    }
}
