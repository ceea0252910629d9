import Glibc

/// Whole-file reads and writes through file descriptors: configuration files, secrets, the journal.
public enum FileIO {
    /// The whole file. Throws `SystemError` (its `code` is ENOENT for a missing file, EFBIG for a
    /// file longer than `maxBytes`, which is then not read further).
    public static func read(_ path: String, maxBytes: Int = Int.max) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open \(path)") }
        defer { close(fd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { raw in retryingOnInterrupt { Glibc.read(fd, raw.baseAddress, raw.count) } }
            if n < 0 { throw SystemError("read \(path)") }
            if n == 0 { return data }
            data.append(contentsOf: chunk[0..<n])
            guard data.count <= maxBytes else { throw SystemError("read \(path): larger than \(maxBytes) bytes", code: EFBIG) }
        }
    }

    /// The whole file as UTF-8 text (invalid bytes replaced).
    public static func readText(_ path: String) throws -> String {
        String(decoding: try read(path), as: UTF8.self)
    }

    /// Writes all of `bytes` to `fd`; `what` names it in the error.
    public static func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { raw in
                retryingOnInterrupt { Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) }
            }
            if n < 0 { throw SystemError("write \(what)") }
            offset += n
        }
    }
}
