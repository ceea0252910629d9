import CIPTRTPProxyNFT
@testable import KernelOffload

/// Netlink messages and attributes written byte by byte, as the kernel would send them: the input
/// of the parsing tests, built without the code under test.
enum NetlinkBytes {
    /// A value in host byte order.
    static func host<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value) { Array($0) } }

    /// A value in network byte order.
    static func network<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.bigEndian) { Array($0) } }

    /// Zero bytes up to the next multiple of 4.
    static func padded(_ bytes: [UInt8]) -> [UInt8] { bytes + [UInt8](repeating: 0, count: (4 - bytes.count % 4) % 4) }

    /// A message: 16-byte header (length, type, flags, sequence, port), payload, padding.
    static func message(type: UInt16, flags: UInt16 = 0, sequence: UInt32, port: UInt32, payload: [UInt8] = []) -> [UInt8] {
        padded(host(UInt32(16 + payload.count)) + host(type) + host(flags) + host(sequence) + host(port) + payload)
    }

    /// An NLMSG_ERROR message carrying `error` (0: an ack; else a negative errno) and, as with
    /// NETLINK_CAP_ACK, only the header of the message it answers.
    static func error(_ error: Int32, sequence: UInt32, port: UInt32) -> [UInt8] {
        let answered = host(UInt32(16)) + host(UInt16(0)) + host(UInt16(0)) + host(sequence) + host(port)
        return message(type: UInt16(NLMSG_ERROR), sequence: sequence, port: port, payload: host(error) + answered)
    }

    /// An attribute: 4-byte header (length, type), value, padding.
    static func attribute(_ type: UInt16, _ value: [UInt8]) -> [UInt8] {
        padded(host(UInt16(4 + value.count)) + host(type) + value)
    }

    /// A nested attribute, flagged NLA_F_NESTED as the kernel does.
    static func nested(_ type: UInt16, _ children: [[UInt8]]) -> [UInt8] {
        attribute(type | UInt16(NLA_F_NESTED), children.flatMap { $0 })
    }

    /// A NUL-terminated string value.
    static func string(_ s: String) -> [UInt8] { Array(s.utf8) + [0] }

    /// An nf_tables attribute type (the kernel headers' enums are imported with raw values).
    static func nft<T: RawRepresentable>(_ type: T) -> UInt16 where T.RawValue: BinaryInteger { UInt16(type.rawValue) }
}
