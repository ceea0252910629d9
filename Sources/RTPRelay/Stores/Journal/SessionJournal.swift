import Glibc
import IPTRTPProxyPOSIX
import Synchronization

/// The session journal: an append-only text file of `JournalRecord` lines, written (and, with
/// `syncs`, synced to disk) before a request is answered, so that a relay restarted after a crash
/// or an upgrade puts every call back with the same ids, created stamps and ports. No database:
/// the relay is the only writer. Without `syncs` a record survives the relay's death (it is in
/// the kernel's page cache) but not the host's.
///
/// Appends are copied into a shared mapping of the file (`MappedAppendFile`), not written by a
/// system call per request: the journal's `write` was a tenth of the relay's CPU per call. While
/// the relay runs, and after a crash, the file may end in zero bytes past the last record (it is
/// grown ahead in steps); `load` leaves them out, and a clean stop cuts them off.
///
/// The file is rewritten (compacted) to just the live state when it has grown well past it:
/// written to `PATH.new`, synced, renamed over `PATH`, and the directory synced.
///
/// One relay per journal: from its relay's start (or first append) until `close`, the journal holds an
/// exclusive lock on `PATH.lock` (`claim`), and a second relay given the same file does not start (two
/// would overwrite each other's records through their mappings). The kernel drops the lock when
/// its relay dies, so a restart after a crash finds it free; a start waits a few seconds for a
/// predecessor that is still exiting.
final class SessionJournal: SessionStore {
    let path: String
    /// Sync every append to disk before returning.
    let syncs: Bool
    private let file = Mutex(JournalFile())

    /// The appended file (opened on first append, closed by a rewrite), the growth since the
    /// last rewrite, and the group commit under way.
    private struct JournalFile {
        /// Held from `claim` (or the first append) until `close`.
        var lock: FileLock?
        var appending: MappedAppendFile?
        var appendedSinceRewrite = 0
        /// The thread in a group commit: its appends are synced together by `endGroupCommit`.
        var groupThread: pthread_t?
        /// Appended in the group commit and not yet synced.
        var unsynced = false
    }

    /// How long a start waits for the lock of a relay that is still exiting (one just killed).
    let lockWaitMilliseconds: Int64

    init(path: String, syncs: Bool = true, lockWaitMilliseconds: Int64 = 5000) {
        self.path = path
        self.syncs = syncs
        self.lockWaitMilliseconds = lockWaitMilliseconds
    }

    deinit { close() }

    /// The lock file next to the journal.
    var lockPath: String { path + ".lock" }

    /// Another relay holds the journal.
    struct InUse: Error, CustomStringConvertible {
        let path: String
        let lock: FileLock.Held
        var description: String {
            "session journal \(path) is in use by another relay"
                + (lock.holder.map { " (pid \($0))" } ?? "") + "; its lock is \(lock.path)"
        }
    }

    /// Takes the journal's lock (the relay's start calls it before `load`; appends and rewrites
    /// take it too). A plain `load` does not: anyone may read the file.
    func claim() throws {
        try file.withLock { try claim(&$0) }
    }

    private func claim(_ file: inout JournalFile) throws {
        guard file.lock == nil else { return }
        do {
            file.lock = try FileLock(path: lockPath, waitMilliseconds: lockWaitMilliseconds)
        } catch let held as FileLock.Held {
            throw InUse(path: path, lock: held)
        }
    }

    /// Cuts the file's zero tail, closes it and lets the lock go (the engine calls this once it
    /// has stopped); a later claim or append takes them again.
    func close() {
        file.withLock { file in
            file.appending?.close()
            file.appending = nil
            file.lock?.release()
            file.lock = nil
        }
    }

    var location: String { path }

    var appendedSinceRewrite: Int { file.withLock { $0.appendedSinceRewrite } }

    /// Reads every valid record; a missing file is an empty journal.
    func load() throws -> (records: [JournalRecord], skipped: Int) {
        let data: [UInt8]
        do {
            data = try FileIO.read(path)
        } catch let e as SystemError where e.code == ENOENT {
            return ([], 0)
        }
        // The zero bytes a running (or crashed) relay's file ends in are not content. Only the
        // tail: a zero byte inside a line makes that line unreadable, not the records after it.
        let text = String(decoding: data[..<((data.lastIndex { $0 != 0 }).map { $0 + 1 } ?? 0)], as: UTF8.self)
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

    /// Appends records (and syncs them to disk, with `syncs`).
    func append(_ records: [JournalRecord]) throws {
        guard !records.isEmpty else { return }
        try file.withLock { file in
            try claim(&file)
            if file.appending == nil { file.appending = try MappedAppendFile(path: path) }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(192 * records.count)
            for r in records {
                r.append(to: &bytes)
                bytes.append(10)
            }
            try bytes.withUnsafeBytes { try file.appending!.append($0) }
            file.appendedSinceRewrite += records.count
            guard syncs else { return }
            if let group = file.groupThread, pthread_equal(group, pthread_self()) != 0 {
                file.unsynced = true
                return
            }
            try file.appending!.sync()
        }
    }

    /// Starts a group commit on the calling thread: its appends are written at once but synced
    /// together by `endGroupCommit`, one `fdatasync` for many changes. The control server wraps
    /// the requests of one read in it and sends their replies only after `endGroupCommit`, so a
    /// reply still leaves only once its change is on disk. Appends of other threads sync as ever.
    func beginGroupCommit() {
        file.withLock { $0.groupThread = pthread_self() }
    }

    /// Ends the calling thread's group commit: syncs what it appended (with `syncs`).
    func endGroupCommit() throws {
        try file.withLock { file in
            file.groupThread = nil
            guard file.unsynced else { return }
            file.unsynced = false
            try file.appending?.sync()
        }
    }

    /// Replaces the file with `records` (the live state), atomically: written to `PATH.new`,
    /// synced, renamed over `PATH`, and the directory synced.
    func rewrite(_ records: [JournalRecord]) throws {
        try file.withLock { file in
            try claim(&file)
            let temporary = path + ".new"
            let wfd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
            guard wfd >= 0 else { throw SystemError("open \(temporary)") }
            do {
                try FileIO.writeAll(wfd, Array(([JournalRecord.header] + records.map(\.line)).map { $0 + "\n" }.joined().utf8), what: temporary)
                guard fsync(wfd) == 0 else { throw SystemError("fsync \(temporary)") }
            } catch {
                Glibc.close(wfd)
                unlink(temporary)
                throw error
            }
            Glibc.close(wfd)
            guard rename(temporary, path) == 0 else { throw SystemError("rename \(temporary)") }
            let slash = path.lastIndex(of: "/")
            let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
            let dfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            if dfd >= 0 {
                _ = fsync(dfd)
                Glibc.close(dfd)
            }
            if let appending = file.appending {
                // Appends of a group commit under way reach the disk before the old file goes.
                if file.unsynced {
                    try? appending.sync()
                    file.unsynced = false
                }
                appending.close()
                file.appending = nil
            }
            file.appendedSinceRewrite = 0
        }
    }
}
