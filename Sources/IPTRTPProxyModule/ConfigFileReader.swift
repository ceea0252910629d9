import Glibc
import IPTRTPProxyPOSIX

/// Reads the switchboard cfg file with plain system calls (the module links no Foundation).
enum ConfigFileReader {
    /// A cfg file larger than this is refused rather than read.
    static let maxSize = 4 << 20

    /// The file's text.
    static func text(of path: String) throws -> String {
        do {
            return String(decoding: try FileIO.read(path, maxBytes: maxSize), as: UTF8.self)
        } catch let e as SystemError where e.code == EFBIG {
            throw ModuleConfigError("switchboard config '\(path)' is larger than \(maxSize) bytes")
        } catch let e as SystemError {
            let verb = e.call.hasPrefix("open") ? "open" : "read"
            throw ModuleConfigError("cannot \(verb) switchboard config '\(path)': \(SystemError.text(e.code))")
        }
    }
}
