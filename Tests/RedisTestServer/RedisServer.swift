import Glibc
import IPTRTPProxyCore
import IPTRTPProxyRedis

public struct FixtureError: Error, CustomStringConvertible {
    public var description: String
    /// The spawned process has exited and been reaped.
    public var reaped = false
    public init(_ description: String, reaped: Bool = false) {
        self.description = description
        self.reaped = reaped
    }
}

/// A loopback TCP socket bound to a free port (port 0, read back). Closed on deinit.
public final class LoopbackSocket {
    public let fd: Int32
    public let port: UInt16

    /// Binds; with `listening`, also listens (and never accepts: the kernel completes the
    /// handshakes, nothing ever answers).
    public init(listening: Bool) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw FixtureError("socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok, !listening || listen(fd, 8) == 0 else {
            close(fd)
            throw FixtureError("bind/listen: errno \(errno)")
        }
        self.fd = fd
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }

    /// A port nothing listens on (for a moment, anyway).
    public static func freePort() throws -> UInt16 { try LoopbackSocket(listening: false).port }
}

/// A `redis-server` of the test's own on a free loopback port, no persistence. It is stopped
/// (SIGTERM, then SIGKILL if it lingers, and reaped) when the fixture goes away, whether the test
/// passed or not.
///
/// Spawned with posix_spawn and an empty signal mask: the test runner's worker threads block most
/// signals, and a child spawned from one (Foundation's Process does not reset the mask) would
/// inherit that and never see SIGTERM.
public final class RedisServer {
    public let pid: pid_t
    public let port: UInt16
    public let password: String?
    private var reaped = false

    /// Starts the server (on `port`, or on a free port) and waits (bounded) until it answers PING.
    /// A given port is how a test brings "the same" Redis back, empty, after `killHard()`.
    public init(port fixedPort: UInt16? = nil, password: String? = nil) throws {
        var lastError: Error = FixtureError("redis-server did not start")
        for _ in 0..<3 {  // another process may take the free port between its probe and the bind
            let port = try fixedPort ?? LoopbackSocket.freePort()
            var arguments = [
                "redis-server", "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--dir", "/tmp", "--loglevel", "warning",
            ]
            if let password { arguments += ["--requirepass", password] }
            let pid = try RedisServer.spawn("/usr/bin/redis-server", arguments)
            do {
                try RedisServer.waitForPong(pid, port: port, password: password)
                self.pid = pid
                self.port = port
                self.password = password
                return
            } catch {
                lastError = error
                if (error as? FixtureError)?.reaped != true { RedisServer.stop(pid) }
            }
        }
        throw lastError
    }

    deinit {
        if !reaped { RedisServer.stop(pid) }
    }

    /// The server's URL, with `password` (or the server's own) and `database`.
    public func url(database: Int = 0, password: String?? = .none) -> RedisURL {
        RedisURL(host: "127.0.0.1", port: port, database: database, password: password ?? self.password)
    }

    /// A connection with a 2 s timeout.
    public func connect(database: Int = 0) throws -> RedisConnection {
        try RedisConnection(url: url(database: database), timeoutMilliseconds: 2000)
    }

    /// Stops the server where it is (SIGSTOP): connections stay open, nothing is answered.
    public func pause() { kill(pid, SIGSTOP) }

    /// Lets a paused server go on (SIGCONT).
    public func resume() { kill(pid, SIGCONT) }

    /// Kills the server with SIGKILL and reaps it.
    public func killHard() {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        reaped = true
    }

    /// SIGTERM, up to 5 s for it to exit, then SIGKILL; always reaped.
    private static func stop(_ pid: pid_t) {
        var status: Int32 = 0
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid || (r == -1 && errno != EINTR) { return }
            usleep(2_000)
        }
        kill(pid, SIGKILL)
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    }

    /// posix_spawn with an empty signal mask, default dispositions, and /dev/null for stdio.
    private static func spawn(_ path: String, _ arguments: [String]) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        var all = sigset_t()
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd in Int32(0)...2 {
            posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0)
        }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, &argv, environ)
        guard rc == 0 else { throw FixtureError("posix_spawn \(path): error \(rc)") }
        return pid
    }

    private static func waitForPong(_ pid: pid_t, port: UInt16, password: String?) throws {
        let deadline = ContinuousClock.now + .seconds(15)
        let url = RedisURL(host: "127.0.0.1", port: port, password: password)
        while true {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                throw FixtureError("redis-server on port \(port) exited (wait status \(status))", reaped: true)
            }
            if let connection = try? RedisConnection(url: url, timeoutMilliseconds: 500),
                (try? connection.command("PING")) == .status("PONG")
            {
                return
            }
            guard ContinuousClock.now < deadline else { throw FixtureError("redis-server on port \(port) never answered PING") }
            usleep(5_000)  // the retry interval of the wait, bounded by the deadline above
        }
    }
}
