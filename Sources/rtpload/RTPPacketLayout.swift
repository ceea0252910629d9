/// The packets rtpload sends: 12-byte RTP header (RFC 3550, V=2, no CSRC, no extension) and a
/// 160-byte payload, the size of 20 ms of G.711. The payload opens with the monotonic send time,
/// the stream's index and whether the packet belongs to the measured window, so the sink needs no
/// state shared with the sender.
enum RTPPacketLayout {
    static let headerSize = 12
    static let payloadSize = 160
    static let packetSize = headerSize + payloadSize  // 172
    /// Every stream's SSRC is this base plus the stream index (the sink recovers the index from it).
    static let ssrcBase: UInt32 = 0x5254_0000
    /// RTP timestamp step per packet: 160 samples of 8 kHz audio.
    static let timestampStep: UInt32 = 160

    /// Writes the whole packet into `buffer` (at least `packetSize` bytes).
    static func write(
        into buffer: UnsafeMutableRawPointer, payloadType: UInt8, sequence: UInt16, timestamp: UInt32,
        streamIndex: UInt32, sentAt: UInt64, measured: Bool
    ) {
        let b = buffer.assumingMemoryBound(to: UInt8.self)
        b[0] = 0x80  // V=2, P=0, X=0, CC=0
        b[1] = payloadType & 0x7f
        storeBigEndian(sequence, at: buffer + 2)
        storeBigEndian(timestamp, at: buffer + 4)
        storeBigEndian(ssrcBase &+ streamIndex, at: buffer + 8)
        buffer.storeBytes(of: sentAt, toByteOffset: headerSize, as: UInt64.self)
        buffer.storeBytes(of: streamIndex, toByteOffset: headerSize + 8, as: UInt32.self)
        b[headerSize + 12] = measured ? 1 : 0
    }

    /// Reads back what `write` put in, or nil when the datagram is not one of ours.
    static func read(_ buffer: UnsafeRawPointer, length: Int) -> (streamIndex: UInt32, sentAt: UInt64, measured: Bool)? {
        guard length >= headerSize + 13 else { return nil }
        let b = buffer.assumingMemoryBound(to: UInt8.self)
        guard b[0] >> 6 == 2 else { return nil }
        let ssrc = UInt32(b[8]) << 24 | UInt32(b[9]) << 16 | UInt32(b[10]) << 8 | UInt32(b[11])
        guard ssrc >= ssrcBase else { return nil }
        let sentAt = buffer.loadUnaligned(fromByteOffset: headerSize, as: UInt64.self)
        return (ssrc &- ssrcBase, sentAt, b[headerSize + 12] == 1)
    }

    private static func storeBigEndian<T: FixedWidthInteger>(_ value: T, at p: UnsafeMutableRawPointer) {
        p.storeBytes(of: value.bigEndian, as: T.self)
    }
}
