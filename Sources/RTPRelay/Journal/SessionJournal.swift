import Glibc

/// The session journal: an append-only text file of `JournalRecord` lines, synced to disk before
/// a request is answered, so that a relay restarted after a crash or an upgrade puts every call
/// back with the same ids, created stamps and ports. No database: the relay is the only writer.
///
/// The file is rewritten (compacted) to just the live state when it has grown well past it:
/// written to `PATH.new`, synced, renamed over `PATH`, and the directory synced.
final class SessionJournal {
    let path: String
    private var fd: Int32 = -1
    /// Records appended since the file was last rewritten.
    private(set) var appendedSinceRewrite = 0

    init(path: String) {
        self.path = path
    }

    deinit {
        if fd >= 0 { close(fd) }
    }

    /// Reads every valid record; a missing file is an empty journal.
    func read() throws -> (records: [JournalRecord], skipped: Int) {
        let rfd = open(path, O_RDONLY | O_CLOEXEC)
        if rfd < 0 {
            if errno == ENOENT { return ([], 0) }
            throw SystemError("open \(path)")
        }
        defer { close(rfd) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(rfd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("read \(path)")
            }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        let text = String(decoding: data, as: UTF8.self)
        var records: [JournalRecord] = []
        var skipped = 0
        // A last line without its newline was torn by a crash mid-write: not trusted.
        let complete = text.hasSuffix("\n") ? Substring(text) : text[..<(text.lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex)]
        for line in complete.split(separator: "\n") {
            if line == JournalRecord.header { continue }
            if let r = JournalRecord(line: line) { records.append(r) } else { skipped += 1 }
        }
        if complete.endIndex != text.endIndex { skipped += 1 }
        return (records, skipped)
    }

    /// Appends records and syncs them to disk.
    func append(_ records: [JournalRecord]) throws {
        guard !records.isEmpty else { return }
        if fd < 0 {
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw SystemError("open \(path)") }
        }
        try writeAll(fd, records.map { $0.line + "\n" }.joined())
        guard fdatasync(fd) == 0 else { throw SystemError("fdatasync \(path)") }
        appendedSinceRewrite += records.count
    }

    /// Replaces the file with `records` (the live state), atomically.
    func rewrite(_ records: [JournalRecord]) throws {
        let temporary = path + ".new"
        let wfd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard wfd >= 0 else { throw SystemError("open \(temporary)") }
        do {
            try writeAll(wfd, ([JournalRecord.header] + records.map(\.line)).map { $0 + "\n" }.joined())
            guard fsync(wfd) == 0 else { throw SystemError("fsync \(temporary)") }
        } catch {
            close(wfd)
            unlink(temporary)
            throw error
        }
        close(wfd)
        guard rename(temporary, path) == 0 else { throw SystemError("rename \(temporary)") }
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
        if fd >= 0 {
            close(fd)
            fd = -1
        }
        appendedSinceRewrite = 0
    }

    private func writeAll(_ fd: Int32, _ text: String) throws {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("write \(path)")
            }
            offset += n
        }
    }
}
