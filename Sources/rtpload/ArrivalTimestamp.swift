import Glibc

/// Where a packet's arrival is timed.
enum ArrivalClock: String, CaseIterable {
    /// When the kernel queued it on the sink socket (SO_TIMESTAMPNS): the sink thread's own
    /// wake-up delay stays out of the figure.
    case kernel
    /// When recvmmsg returned it to the sink thread.
    case user
}

/// Reads the SCM_TIMESTAMPNS control message the kernel attaches to a datagram.
enum ReceiveTimestamp {
    /// SO_TIMESTAMPNS (= SCM_TIMESTAMPNS) on x86_64 and arm64 Linux; Glibc's macro for it does not
    /// reach Swift (it depends on the time_t size).
    static let option: Int32 = 35
    /// Room for one cmsghdr with a struct timespec, aligned.
    static let controlBytes = 64

    /// The timestamp in `control` (the msg_control area, `length` bytes used), in ns, if any.
    static func nanoseconds(in control: UnsafeRawPointer, length: Int) -> UInt64? {
        // struct cmsghdr { size_t len; int level; int type; } then data aligned to size_t.
        let header = MemoryLayout<Int>.size + 8
        var offset = 0
        while offset + header <= length {
            let len = control.loadUnaligned(fromByteOffset: offset, as: Int.self)
            let level = control.loadUnaligned(fromByteOffset: offset + MemoryLayout<Int>.size, as: Int32.self)
            let type = control.loadUnaligned(fromByteOffset: offset + MemoryLayout<Int>.size + 4, as: Int32.self)
            if len < header { return nil }
            if level == SOL_SOCKET && type == option && len >= header + 16 {
                let sec = control.loadUnaligned(fromByteOffset: offset + header, as: Int.self)
                let nsec = control.loadUnaligned(fromByteOffset: offset + header + 8, as: Int.self)
                return UInt64(sec) &* 1_000_000_000 &+ UInt64(nsec)
            }
            offset += (len + MemoryLayout<Int>.size - 1) & ~(MemoryLayout<Int>.size - 1)
        }
        return nil
    }
}
