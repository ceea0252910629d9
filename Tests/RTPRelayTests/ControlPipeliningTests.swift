import Glibc
import IPTRTPProxyClient
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Testing
@testable import RTPRelay

/// Pipelining on the control connection: many requests sent before any reply is read are
/// answered in order, with their ids, their replies written together; with a journal, every
/// change is on file before its reply leaves (group commit).
@Suite("control pipelining")
struct ControlPipeliningTests {
    /// A Unix connection to `path` with the greeting read.
    final class Connection {
        let fd: Int32
        private var input: [UInt8] = []

        init(_ path: String) throws {
            fd = try Socket.connected(to: try SocketAddress(unixPath: path), timeout: 2000)
            _ = try #require(readLine(), "no greeting")
        }

        deinit { close(fd) }

        func send(_ text: String) {
            let bytes = Array(text.utf8)
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
                if n > 0 { offset += n; continue }
                var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                guard n < 0, lastCallWouldBlock, poll(&p, 1, 3000) == 1 else { return }
            }
        }

        /// The next line, or nil when none came within 3 s.
        func readLine() -> String? {
            var buffer = [UInt8](repeating: 0, count: 65536)
            while true {
                if let newline = input.firstIndex(of: 10) {
                    defer { input.removeSubrange(...newline) }
                    return String(decoding: input[..<newline], as: UTF8.self)
                }
                var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&p, 1, 3000) == 1 else { return nil }
                let n = recv(fd, &buffer, buffer.count, 0)
                if n > 0 { input += buffer[0..<n] } else if n == 0 || !lastCallWouldBlock { return nil }
            }
        }
    }

    static func allocLine(_ id: Int, port: Int) -> String {
        "iptrtp/2 \(id) alloc pub a.always-learn=0 a.signal=127.0.40.9 a.rtp=127.0.40.9:\(port) a.rtp-learning=90\n"
    }

    @Test("requests written at once are answered in order, each reply with its request's id")
    func pipelinedInOrder() throws {
        let h = try RelayHarness(gateA: "127.0.40.1", gateB: "127.0.40.2", port: 33000, maxSessions: 100)
        let path = "/tmp/iptrtpproxy-test-pipeline-\(getpid()).sock"
        let server = ControlServer(engine: h.engine, endpoints: .init(unixPath: path))
        try server.start()
        defer { server.stop(); h.engine.stop() }
        let c = try Connection(path)

        // 100 allocs and 100 pings interleaved, all in one write.
        c.send((0..<200).map { i in i % 2 == 0 ? Self.allocLine(i, port: 4000 + 2 * i) : "iptrtp/2 \(i) ping\n" }.joined())
        var sessions: [String] = []
        for i in 0..<200 {
            let reply = try #require(c.readLine(), "reply \(i) missing")
            let words = reply.split(separator: " ")
            #expect(words.count >= 3 && words[1] == "\(i)" && words[2] == "ok", "\(reply)")
            if i % 2 == 0, words.count >= 4 { sessions.append(String(words[3])) } else if i % 2 == 1 { #expect(reply.hasSuffix(" ok pong")) }
        }
        #expect(sessions.count == 100)
        #expect(try RelayControlClient("unix:" + path).list(switchboard: "pub").sessions.count == 100)

        // Deletes, one failing in the middle: its error reply keeps its place; the rest succeed.
        var lines = sessions.enumerated().map { "iptrtp/2 d\($0.offset) delete pub \($0.element)\n" }
        lines.insert("iptrtp/2 bad delete pub 999/1\n", at: 50)
        c.send(lines.joined())
        for i in 0..<101 {
            let reply = try #require(c.readLine(), "delete reply \(i) missing")
            if i == 50 {
                #expect(reply == "iptrtp/2 bad error switchboard 'pub': no session 999/1")
            } else {
                #expect(reply == "iptrtp/2 d\(i < 50 ? i : i - 1) ok")
            }
        }
        #expect(try RelayControlClient("unix:" + path).list(switchboard: "pub").sessions.isEmpty)
    }

    @Test("a window client: W requests in flight, a new one sent per reply, every reply matched by id")
    func windowClient() throws {
        let h = try RelayHarness(gateA: "127.0.41.1", gateB: "127.0.41.2", port: 33200, maxSessions: 40)
        let path = "/tmp/iptrtpproxy-test-window-\(getpid()).sock"
        let server = ControlServer(engine: h.engine, endpoints: .init(unixPath: path))
        try server.start()
        defer { server.stop(); h.engine.stop() }
        let c = try Connection(path)

        let total = 3_000, window = 16
        var sent = 0, answered = 0
        while answered < total {
            var batch = ""
            while sent < total && sent - answered < window {
                batch += "iptrtp/2 w\(sent) ping\n"
                sent += 1
            }
            if !batch.isEmpty { c.send(batch) }
            let reply = try #require(c.readLine(), "reply \(answered) missing")
            #expect(reply == "iptrtp/2 w\(answered) ok pong")
            answered += 1
        }
        #expect(try RelayControlClient("unix:" + path).stats().controlRequests == UInt64(total))
    }

    @Test("one read takes many requests: all are answered from it, a split line waits for its end")
    func manyRequestsInOneRead() throws {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[1]) }
        let c = ControlConnection(fd: fds[0], listener: 0, peer: .none, challenge: nil, now: 0)
        defer { c.close() }
        let text = (0..<300).map { "iptrtp/2 \($0) ping\n" }.joined() + "iptrtp/2 300 pi"
        let sent = text.utf8.withContiguousStorageIfAvailable { send(fds[1], $0.baseAddress, $0.count, 0) }
        #expect(sent == text.utf8.count)
        #expect(c.receive())
        var lines: [String] = []
        while let line = c.nextLine() { lines.append(String(decoding: line, as: UTF8.self)) }
        #expect(lines == (0..<300).map { "iptrtp/2 \($0) ping" })
        #expect(c.unreadInput == "iptrtp/2 300 pi".utf8.count)
        _ = "ng\n".utf8.withContiguousStorageIfAvailable { send(fds[1], $0.baseAddress, $0.count, 0) }
        #expect(c.receive())
        #expect(c.nextLine().map { String(decoding: $0, as: UTF8.self) } == "iptrtp/2 300 ping")
        #expect(c.nextLine() == nil && c.unreadInput == 0)
    }

    @Test("with a journal, the changes of pipelined requests are on file before their replies arrive")
    func journalBeforeReplies() throws {
        let journal = "/tmp/iptrtpproxy-test-groupcommit-\(getpid()).journal"
        unlink(journal)
        defer { unlink(journal) }
        let h = try RelayHarness(gateA: "127.0.42.1", gateB: "127.0.42.2", port: 33400, maxSessions: 64, journal: journal)
        let path = "/tmp/iptrtpproxy-test-groupcommit-\(getpid()).sock"
        let server = ControlServer(engine: h.engine, endpoints: .init(unixPath: path))
        try server.start()
        defer { server.stop(); h.engine.stop() }
        let c = try Connection(path)

        c.send((0..<64).map { Self.allocLine($0, port: 5000 + 2 * $0) }.joined())
        for i in 0..<64 {
            let reply = try #require(c.readLine(), "reply \(i) missing")
            #expect(reply.hasPrefix("iptrtp/2 \(i) ok "))
            // Every change this reply (and those before it) made is in the journal already.
            let records = try SessionJournal(path: journal).load().records
            #expect(records.filter { if case .allocated = $0 { true } else { false } }.count >= i + 1)
        }
        // The group is over: an append from another thread (not the control thread) still syncs
        // and lands, and a restart finds all 64 sessions.
        let store = try #require(h.engine.operations.store as? SessionJournal)
        try store.append([.freed(switchboard: "pub", session: SessionHandle(id: 999, created: 1), at: 1)])
        #expect(try SessionJournal(path: journal).load().records.count == 65)
    }

    @Test("group commit: appends of the committing thread are written at once and synced at its end; other threads unaffected")
    func groupCommitState() throws {
        let path = "/tmp/iptrtpproxy-test-group-\(getpid()).journal"
        unlink(path)
        defer { unlink(path) }
        let journal = SessionJournal(path: path)
        journal.beginGroupCommit()
        try journal.append([.freed(switchboard: "pub", session: SessionHandle(id: 1, created: 1), at: 1)])
        // Written (another reader sees it), only its sync is deferred.
        #expect(try SessionJournal(path: path).load().records.count == 1)
        let other = try PosixThread(name: "other") { try? journal.append([.freed(switchboard: "pub", session: SessionHandle(id: 2, created: 1), at: 1)]) }
        other.join()
        try journal.endGroupCommit()
        // A second end, with nothing pending, does nothing.
        try journal.endGroupCommit()
        #expect(try SessionJournal(path: path).load().records.count == 2)
        #expect(journal.appendedSinceRewrite == 2)
    }
}
