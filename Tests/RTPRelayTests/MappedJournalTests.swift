import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Testing
@testable import RTPRelay

/// The journal's appends through a shared mapping (`MappedAppendFile`): what a reader, a restart
/// and a crash find in the file.
@Suite("mapped journal file")
struct MappedJournalTests {
    static func append(_ file: MappedAppendFile, _ text: String) throws {
        try Array(text.utf8).withUnsafeBytes { try file.append($0) }
    }

    static func size(_ path: String) -> Int {
        var status = stat()
        return stat(path, &status) == 0 ? Int(status.st_size) : -1
    }

    @Test("appends are in the file at once for any reader; the file is grown ahead in zeros and cut on close")
    func appendsVisibleAndCut() throws {
        let path = freshJournalPath("mapped", "visible")
        defer { unlink(path) }
        let file = try MappedAppendFile(path: path)
        try Self.append(file, "one\n")
        try Self.append(file, "two\n")
        let seen = try FileIO.read(path)
        #expect(seen.count >= 1 << 20, "grown ahead by a step")
        #expect(Array(seen.prefix(8)) == Array("one\ntwo\n".utf8))
        #expect(seen[8...].allSatisfy { $0 == 0 })
        file.close()
        #expect(try FileIO.readText(path) == "one\ntwo\n")
        #expect(throws: SystemError.self) { try Self.append(file, "late\n") }
    }

    @Test("reopened, the file goes on after its content; a line a crash cut short is cleared, not joined to the next")
    func reopenAfterCrash() throws {
        let path = freshJournalPath("mapped", "crash")
        defer { unlink(path) }
        // What a relay killed in the middle of a copy leaves: whole lines, a cut one, the zero tail.
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        let left = Array("first\nsecond\nthi".utf8) + [UInt8](repeating: 0, count: 5000)
        try FileIO.writeAll(fd, left, what: path)
        close(fd)

        let file = try MappedAppendFile(path: path)
        #expect(file.end == 13)
        try Self.append(file, "third\n")
        file.close()
        #expect(try FileIO.readText(path) == "first\nsecond\nthird\n")
    }

    @Test("growth past several steps keeps every byte, in order", arguments: [1, 1000, 70_000])
    func growth(lineLength: Int) throws {
        let path = freshJournalPath("mapped", "growth-\(lineLength)")
        defer { unlink(path) }
        let file = try MappedAppendFile(path: path)
        var expected: [UInt8] = []
        var line = 0
        while expected.count < 3 * (1 << 20) + 12345 {
            let text = String(repeating: Character(UnicodeScalar(UInt8(97 + line % 26))), count: lineLength) + "\n"
            try Self.append(file, text)
            expected += Array(text.utf8)
            line += 1
        }
        #expect(file.end == expected.count)
        file.close()
        #expect(try FileIO.read(path) == expected)
        #expect(Self.size(path) == expected.count)
    }

    @Test("journal: records appended through the mapping load back, with the zero tail a running relay leaves")
    func journalLoadsWhileGrownAhead() throws {
        let path = freshJournalPath("mapped", "journal")
        defer { unlink(path) }
        let journal = SessionJournal(path: path, syncs: false)
        let records: [JournalRecord] = (1...50).map {
            .freed(switchboard: "pub", session: SessionHandle(id: $0, created: 7), at: UInt32($0))
        }
        try journal.append(Array(records[..<20]))
        try journal.append(Array(records[20...]))
        #expect(Self.size(path) >= 1 << 20)
        // Another reader (a restarted relay after a crash of this one) sees every record.
        let loaded = try SessionJournal(path: path).load()
        #expect(loaded.records == records)
        #expect(loaded.skipped == 0)
        // A rewrite starts a new file; appends go on into it.
        try journal.rewrite(Array(records[..<2]))
        try journal.append([records[49]])
        #expect(try SessionJournal(path: path).load().records == [records[0], records[1], records[49]])
    }

    @Test("journal: a relay that stopped cleanly leaves no zero tail; one killed mid-record loses only that record")
    func journalStops() throws {
        let path = freshJournalPath("mapped", "journal-stop")
        defer { unlink(path) }
        let record = JournalRecord.freed(switchboard: "pub", session: SessionHandle(id: 1, created: 7), at: 1)
        do {
            let journal = SessionJournal(path: path, syncs: false)
            try journal.append([record])
        }
        #expect(try FileIO.readText(path) == record.line + "\n")

        // The cut record of a killed relay, then a new relay appending.
        let fd = open(path, O_WRONLY | O_APPEND)
        try FileIO.writeAll(fd, Array("D pub 2".utf8) + [UInt8](repeating: 0, count: 100), what: path)
        close(fd)
        #expect(try SessionJournal(path: path).load().records == [record])
        let restarted = SessionJournal(path: path, syncs: false)
        let next = JournalRecord.freed(switchboard: "pub", session: SessionHandle(id: 3, created: 7), at: 3)
        try restarted.append([next])
        let loaded = try SessionJournal(path: path).load()
        #expect(loaded.records == [record, next])
        #expect(loaded.skipped == 0)
    }

    @Test("journal: a zero byte inside a line does not cost the records after it")
    func zeroInsideALine() throws {
        let path = freshJournalPath("mapped", "journal-zero")
        defer { unlink(path) }
        let first = JournalRecord.freed(switchboard: "pub", session: SessionHandle(id: 1, created: 7), at: 1)
        let last = JournalRecord.freed(switchboard: "pub", session: SessionHandle(id: 3, created: 7), at: 3)
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        try FileIO.writeAll(fd, Array((first.line + "\n").utf8) + Array("D pub".utf8) + [0] + Array(" 2 7 2\n".utf8)
            + Array((last.line + "\n").utf8) + [UInt8](repeating: 0, count: 300), what: path)
        close(fd)
        let loaded = try SessionJournal(path: path).load()
        // The line with the zero is read (or skipped) as the record parser sees it; what matters
        // is that the load goes on past it.
        #expect(loaded.records.first == first)
        #expect(loaded.records.last == last)
        #expect(loaded.records.count + loaded.skipped == 3)
    }
}
