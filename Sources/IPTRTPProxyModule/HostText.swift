/// Reading what the host passes (pointer + length, no NUL) without ever trapping.
enum HostText {
    /// The largest text the module accepts from the host; a SIP message fits in 64 KiB.
    static let maxLength: Int32 = 1 << 20

    /// The bytes at `pointer`, or nil when the pair is not a valid buffer.
    static func bytes(_ pointer: UnsafePointer<CChar>?, _ length: Int32) -> [UInt8]? {
        guard length >= 0, length <= maxLength else { return nil }
        if length == 0 { return [] }
        guard let pointer else { return nil }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
            Array(UnsafeBufferPointer(start: $0, count: Int(length)))
        }
    }

    /// The text at `pointer` (invalid UTF-8 is replaced), or nil when the pair is not a valid buffer.
    static func string(_ pointer: UnsafePointer<CChar>?, _ length: Int32) -> String? {
        bytes(pointer, length).map { String(decoding: $0, as: UTF8.self) }
    }
}

/// Bytes handed back to the host: they stay valid until the buffer is next filled, so the host can
/// copy them after the call returns. One buffer per kind of answer, owned by the module state.
final class ReturnedBuffer {
    private var storage: UnsafeMutableBufferPointer<CChar>
    private(set) var count = 0

    init() {
        storage = UnsafeMutableBufferPointer<CChar>.allocate(capacity: 1)
        storage[0] = 0
    }

    deinit { storage.deallocate() }

    /// Replaces the contents with `bytes` (followed by a NUL the host may rely on) and returns them.
    func fill<C: Collection>(_ bytes: C) -> UnsafePointer<CChar>? where C.Element == UInt8 {
        let needed = bytes.count + 1
        if needed > storage.count {
            storage.deallocate()
            storage = UnsafeMutableBufferPointer<CChar>.allocate(capacity: needed)
        }
        var i = 0
        for b in bytes {
            storage[i] = CChar(bitPattern: b)
            i += 1
        }
        storage[i] = 0
        count = i
        return UnsafePointer(storage.baseAddress)
    }

    /// Same as `fill(_:)` for text.
    func fill(_ text: String) -> UnsafePointer<CChar>? { fill(Array(text.utf8)) }

    /// The current contents, when they equal `text` (saves a copy for repeated reads).
    func holds(_ text: String) -> Bool {
        guard count == text.utf8.count else { return false }
        var i = 0
        for b in text.utf8 {
            if storage[i] != CChar(bitPattern: b) { return false }
            i += 1
        }
        return true
    }

    /// The current contents.
    var pointer: UnsafePointer<CChar>? { UnsafePointer(storage.baseAddress) }
}
