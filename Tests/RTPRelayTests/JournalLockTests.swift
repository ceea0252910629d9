import Foundation
import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Testing
@testable import RTPRelay

/// One relay per journal: the lock a journal takes (`FileLock` on `PATH.lock`), what a second
/// relay given the same file gets, and that a holder's death frees it.
@Suite("session journal lock")
struct JournalLockTests {
    static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    @Test("a second journal on the same file is refused, naming the holder; reading stays free; once the first closes the second takes it")
    func secondRefused() throws {
        let path = freshJournalPath("lock", "second")
        defer { unlink(path); unlink(path + ".lock") }
        let first = SessionJournal(path: path, syncs: false)
        try first.claim()
        try first.append([.freed(switchboard: "pub", session: SessionHandle(id: 1, created: 5), at: 6)])
        #expect(Self.exists(path + ".lock"))

        let second = SessionJournal(path: path, syncs: false, lockWaitMilliseconds: 200)
        let refusal = #expect(throws: SessionJournal.InUse.self) { try second.claim() }
        #expect(refusal?.lock.holder == getpid())
        #expect(refusal?.description == "session journal \(path) is in use by another relay (pid \(getpid())); its lock is \(path).lock")
        // Refused before touching anything: appends are refused too, and the first one's record stands.
        #expect(throws: SessionJournal.InUse.self) {
            try second.append([.freed(switchboard: "pub", session: SessionHandle(id: 2, created: 5), at: 6)])
        }

        // Anyone may read the file (a tool, a test): only writers are one.
        #expect(try SessionJournal(path: path).load().records.count == 1)

        first.close()
        #expect(!Self.exists(path + ".lock"), "a clean close removes the lock file")
        try second.claim()
        let (records, skipped) = try second.load()
        #expect(records.count == 1 && skipped == 0)
        second.close()
    }

    @Test("a start waits for a holder that is going away")
    func waitsForHolder() throws {
        let path = freshJournalPath("lock", "wait")
        defer { unlink(path); unlink(path + ".lock") }
        let first = SessionJournal(path: path, syncs: false)
        try first.claim()
        let released = Thread { usleep(300_000); first.close() }
        released.start()
        let second = SessionJournal(path: path, syncs: false, lockWaitMilliseconds: 5000)
        try second.claim()  // would throw InUse after the wait, had the first kept it
        second.close()
    }

    @Test("a holder killed with SIGKILL leaves no lock: the next one takes it at once")
    func killedHolder() throws {
        let path = freshJournalPath("lock", "killed")
        defer { unlink(path); unlink(path + ".lock") }
        // Another process that holds the lock file with flock(2), as a relay would: util-linux's
        // flock, which (--no-fork) becomes the command with the lock held.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/flock")
        holder.arguments = ["--no-fork", path + ".lock", "sleep", "60"]
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        // Wait (deadline 5 s) until flock(1) has it: a lock attempt of our own is refused.
        let deadline = MonotonicClock.milliseconds() + 5000
        var held = false
        while !held && MonotonicClock.milliseconds() < deadline {
            let fd = open(path + ".lock", O_RDONLY | O_CLOEXEC)
            if fd >= 0 {
                if flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK { held = true }
                close(fd)  // never removes the file, unlike a FileLock's release
            }
            if !held { usleep(20_000) }
        }
        #expect(held, "flock(1) took the lock")
        let journal = SessionJournal(path: path, syncs: false, lockWaitMilliseconds: 100)
        #expect(throws: SessionJournal.InUse.self) { try journal.claim() }

        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        try journal.claim()
        journal.close()
    }
}
