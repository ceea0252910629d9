import Glibc

/// Reads the switchboard cfg file with plain system calls (the module links no Foundation).
enum ConfigFileReader {
    /// A cfg file larger than this is refused rather than read.
    static let maxSize = 4 << 20

    /// The file's text.
    static func text(of path: String) throws -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw ModuleConfigError("cannot open switchboard config '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ModuleConfigError("cannot read switchboard config '\(path)': \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
            guard bytes.count <= maxSize else {
                throw ModuleConfigError("switchboard config '\(path)' is larger than \(maxSize) bytes")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
