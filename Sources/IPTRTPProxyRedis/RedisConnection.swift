import CIPTRTPProxyRedis
import Glibc
import IPTRTPProxyCore

/// One blocking connection to a Redis server over hiredis.
///
/// Not thread-safe: one owner thread uses it. Every wait is bounded by the timeout: the connect
/// (hiredis polls with it), and each write and read (SO_SNDTIMEO / SO_RCVTIMEO, set with
/// redisSetTimeout). A reply that trickles in byte by byte can take longer in total: the bound is
/// per wait, not per command.
///
/// A server's error reply is returned as `.error`, not thrown. An I/O failure, a timeout or a
/// closed connection throws and marks the connection broken: every later command throws at once,
/// without I/O (the owner makes a new connection). hiredis writes with write(2); a write to a
/// connection the peer reset would raise SIGPIPE, so each command blocks SIGPIPE in the calling
/// thread and discards the one it caused, leaving the process's signal dispositions alone.
public final class RedisConnection {
    /// The server.
    public let url: RedisURL
    /// The bound of each wait.
    public let timeoutMilliseconds: Int32
    /// True after an I/O failure or timeout: the connection is unusable.
    public private(set) var isBroken = false

    private let context: UnsafeMutablePointer<redisContext>

    /// Connects (redisConnectWithTimeout), sets the read and write timeouts, then sends AUTH when the
    /// URL has a password and SELECT when its database is not 0. Throws `RedisError` naming the step.
    public init(url: RedisURL, timeoutMilliseconds: Int32) throws {
        guard timeoutMilliseconds > 0 else {
            throw RedisError("redis \(url): the timeout must be positive (got \(timeoutMilliseconds) ms)")
        }
        let timeout = timeval(tv_sec: Int(timeoutMilliseconds / 1000), tv_usec: Int(timeoutMilliseconds % 1000) * 1000)
        guard let c = redisConnectWithTimeout(url.host, Int32(url.port), timeout) else {
            throw RedisError("redis \(url): connect: out of memory")
        }
        if c.pointee.err != 0 {
            let reason = String(cString: ipt_redis_errstr(c))
            redisFree(c)
            throw RedisError("redis \(url): connect: \(reason)")
        }
        if redisSetTimeout(c, timeout) != ipt_redis_ok() {
            let reason = String(cString: ipt_redis_errstr(c))
            redisFree(c)
            throw RedisError("redis \(url): setting the timeout: \(reason)")
        }
        self.url = url
        self.timeoutMilliseconds = timeoutMilliseconds
        self.context = c
        // From here a throw runs deinit, which frees the context.
        if let password = url.password {
            try handshake([Array("AUTH".utf8), Array(password.utf8)], step: "AUTH")
        }
        if url.database != 0 {
            try handshake([Array("SELECT".utf8), Array(String(url.database).utf8)], step: "SELECT \(url.database)")
        }
    }

    deinit {
        redisFree(context)
    }

    /// Sends one command (binary-safe arguments, the first is the command name) and waits for its reply.
    public func command(_ arguments: [[UInt8]]) throws -> RedisReply {
        try checkUsable(arguments)
        let raw = withoutSIGPIPE {
            RedisConnection.withArgv(arguments) { argc, argv, lengths in
                redisCommandArgv(context, argc, argv, lengths)
            }
        }
        guard let raw else { throw broken(doing: RedisConnection.name(of: arguments)) }
        defer { freeReplyObject(raw) }
        return try copy(raw, doing: RedisConnection.name(of: arguments))
    }

    /// `command(["SET", "k", "v"])` with text arguments.
    public func command(_ arguments: String...) throws -> RedisReply {
        try command(arguments.map { Array($0.utf8) })
    }

    /// Sends all commands in one write, then reads their replies in order. An empty list sends
    /// nothing. Any I/O failure throws (and breaks the connection); error replies come back as `.error`.
    public func pipeline(_ commands: [[[UInt8]]]) throws -> [RedisReply] {
        for arguments in commands { try checkUsable(arguments) }
        if commands.isEmpty { return [] }
        for arguments in commands {
            let status = RedisConnection.withArgv(arguments) { argc, argv, lengths in
                redisAppendCommandArgv(context, argc, argv, lengths)
            }
            if status != ipt_redis_ok() { throw broken(doing: "pipeline: " + RedisConnection.name(of: arguments)) }
        }
        var replies: [RedisReply] = []
        replies.reserveCapacity(commands.count)
        for (i, arguments) in commands.enumerated() {
            var raw: UnsafeMutableRawPointer?
            let status = withoutSIGPIPE { redisGetReply(context, &raw) }
            let doing = "pipeline reply \(i + 1) of \(commands.count) (\(RedisConnection.name(of: arguments)))"
            guard status == ipt_redis_ok(), let raw else { throw broken(doing: doing) }
            defer { freeReplyObject(raw) }
            replies.append(try copy(raw, doing: doing))
        }
        return replies
    }

    // MARK: - Pieces

    private func handshake(_ arguments: [[UInt8]], step: String) throws {
        switch try command(arguments) {
        case .status: return
        case .error(let message): throw RedisError("redis \(url): \(step): \(message)")
        case let other: throw RedisError("redis \(url): \(step): unexpected reply \(other)")
        }
    }

    private func checkUsable(_ arguments: [[UInt8]]) throws {
        if isBroken { throw RedisError("redis \(url): the connection is broken (an earlier command failed)") }
        if arguments.isEmpty { throw RedisError("redis \(url): an empty command (no arguments)") }
        if arguments.count > Int(Int32.max) { throw RedisError("redis \(url): too many arguments") }
    }

    /// Marks the connection broken and says why (hiredis's context error).
    private func broken(doing: String) -> RedisError {
        isBroken = true
        var reason = String(cString: ipt_redis_errstr(context))
        if reason.isEmpty { reason = "unknown error (hiredis err \(context.pointee.err))" }
        // hiredis 0.14 reports an expired SO_RCVTIMEO / SO_SNDTIMEO as the text of EAGAIN.
        if context.pointee.err == ipt_redis_err_io(), reason == String(cString: strerror(EAGAIN)) {
            reason = "timed out after \(timeoutMilliseconds) ms (\(reason))"
        }
        return RedisError("redis \(url): \(doing): \(reason)")
    }

    private func copy(_ raw: UnsafeMutableRawPointer, doing: String) throws -> RedisReply {
        let pointer = UnsafePointer(raw.assumingMemoryBound(to: redisReply.self))
        guard let reply = RedisReply.copying(pointer) else {
            isBroken = true
            throw RedisError("redis \(url): \(doing): a reply of a type hiredis does not document")
        }
        return reply
    }

    /// The command name for messages: the first argument, printable ASCII only, at most 32 bytes
    /// (never the other arguments, which may hold a password or a value).
    private static func name(of arguments: [[UInt8]]) -> String {
        let first = arguments.first ?? []
        let shown = first.prefix(32).map { (0x21...0x7E).contains($0) ? $0 : UInt8(ascii: "?") }
        return String(decoding: shown, as: UTF8.self)
    }

    /// Calls `body` with hiredis's argc / argv / argvlen over one contiguous copy of the arguments.
    private static func withArgv<R>(
        _ arguments: [[UInt8]],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        var flat: [UInt8] = []
        flat.reserveCapacity(arguments.reduce(1) { $0 + $1.count })
        var offsets: [Int] = []
        var lengths: [Int] = []
        offsets.reserveCapacity(arguments.count)
        lengths.reserveCapacity(arguments.count)
        for argument in arguments {
            offsets.append(flat.count)
            lengths.append(argument.count)
            flat.append(contentsOf: argument)
        }
        flat.append(0)  // never empty, so never a nil base address
        return flat.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            var argv: [UnsafePointer<CChar>?] = offsets.map { base + $0 }
            return argv.withUnsafeMutableBufferPointer { argvBuffer in
                lengths.withUnsafeBufferPointer { lengthBuffer in
                    body(Int32(arguments.count), argvBuffer.baseAddress!, lengthBuffer.baseAddress!)
                }
            }
        }
    }
}

/// Runs `body` with SIGPIPE blocked in this thread and discards a SIGPIPE it raised (a write to a
/// reset connection), then restores the thread's mask (as libpq does). A SIGPIPE already pending
/// before is left alone.
func withoutSIGPIPE<R>(_ body: () throws -> R) rethrows -> R {
    var pipe = sigset_t()
    sigemptyset(&pipe)
    sigaddset(&pipe, SIGPIPE)
    var saved = sigset_t()
    pthread_sigmask(SIG_BLOCK, &pipe, &saved)
    var pending = sigset_t()
    sigpending(&pending)
    let wasPending = sigismember(&pending, SIGPIPE) == 1
    defer {
        if !wasPending {
            sigpending(&pending)
            if sigismember(&pending, SIGPIPE) == 1 {
                var now = timespec(tv_sec: 0, tv_nsec: 0)
                while sigtimedwait(&pipe, nil, &now) == -1 && errno == EINTR {}
            }
        }
        pthread_sigmask(SIG_SETMASK, &saved, nil)
    }
    return try body()
}
