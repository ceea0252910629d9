import Glibc
import IPTRTPProxyCore

/// The network namespace's net.ipv4.ip_local_reserved_ports (IPv6 too): shared-socket mode adds
/// the gates' port ranges, so that no program is given one of them as an ephemeral port (a
/// connect or a bind to port 0), and puts the previous value back when it stops. The sk_lookup
/// program already keeps every packet of the ranges for the relay; this keeps other programs'
/// own traffic off them too.
struct ReservedPorts {
    static let path = "/proc/sys/net/ipv4/ip_local_reserved_ports"
    /// The value before the relay added its ranges.
    let previous: String

    /// Adds `ranges` (first, last) to the reserved ports. Throws when the file cannot be read or
    /// written (no CAP_NET_ADMIN over the namespace).
    init(adding ranges: [(UInt16, UInt16)]) throws {
        previous = try ReservedPorts.read()
        let ours = ranges.map { $0.0 == $0.1 ? "\($0.0)" : "\($0.0)-\($0.1)" }
        try ReservedPorts.write(ReservedPorts.merged(previous: previous, adding: ours))
    }

    /// Puts the previous value back.
    func restore() throws { try ReservedPorts.write(previous) }

    /// The previous list with ours after it ("" stays "").
    static func merged(previous: String, adding ours: [String]) -> String {
        let trimmed = previous.trimmingWhitespace
        return ((trimmed.isEmpty ? [] : [trimmed]) + ours).joined(separator: ",")
    }

    private static func read() throws -> String {
        guard let file = fopen(path, "r") else { throw KernelOffloadError.system("read \(path)", errno) }
        defer { fclose(file) }
        var buffer = [CChar](repeating: 0, count: 65536)
        let n = fread(&buffer, 1, buffer.count - 1, file)
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func write(_ value: String) throws {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw KernelOffloadError.system("open \(path)", errno) }
        defer { close(fd) }
        let bytes = Array((value.isEmpty ? "\n" : value + "\n").utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard n == bytes.count else { throw KernelOffloadError.system("write \(path)", errno) }
    }
}

extension String {
    /// Without leading and trailing spaces and newlines.
    fileprivate var trimmingWhitespace: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\n" || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\n" || c == "\t" { s.removeLast() }
        return String(s)
    }
}
