import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import IPTRTPProxyRedis
import Logging
import RTPRelay
import Synchronization

/// The relay's sessions in Redis, so that another relay with the same switchboards file (the host
/// that took the lost host's gate addresses over, or the same host after a crash) restores them
/// before it serves: ids, created stamps, ports, client addresses, learning timeouts and latched
/// sources (`RedisSessionCodec` for the layout).
///
/// Off the packet path and off the control path: `append` (called with the engine's book lock
/// held) only merges the records into an in-memory mirror of the live sessions and marks them
/// dirty; one writer thread (`ipt-redis`), which owns the connection, sends the dirty sessions in
/// one pipeline (HSET, or HDEL for a freed one), and once a second with nothing to send asks
/// Redis a PING. When Redis is down the relay goes on allocating and forwarding; the store says
/// so once in the log and in `stats`, retries each second, and when Redis is back (even empty)
/// writes every live session back, replacing what its gates' hashes held.
package final class RedisSessionStore: SessionStore {
    /// Where Redis is.
    package let url: RedisURL
    private let switchboards: SwitchboardSet
    private let logger: Logger
    private let timeout: Int32
    private let state = Mutex(State())
    private let work: WakeupPipe
    private let writer = Mutex<PosixThread?>(nil)

    /// What the control path and the writer share.
    private struct State {
        /// The live sessions, as the journal's replay keeps them.
        var mirror = JournalState()
        /// Sessions changed since the writer last sent them: lowercased switchboard name and id.
        var dirty = Set<SessionKey>()
        /// Send everything, replacing the gates' hashes (at start, after Redis was away).
        var resync = true
        /// nil until the writer first tried.
        var up: Bool?
        var detail: String?
        /// Records appended since the last rewrite, for `appendedSinceRewrite`.
        var appended = 0
        var stopping = false
    }

    /// How long the writer lets changes gather after it is woken.
    static let gatherMicroseconds: useconds_t = 2000

    private struct SessionKey: Hashable {
        var switchboard: String
        var id: Int
    }

    /// A store for the sessions of `switchboards` in the Redis at `url`; waits at most
    /// `timeoutMilliseconds` for Redis at a time.
    package init(url: RedisURL, switchboards: SwitchboardSet, logger: Logger, timeoutMilliseconds: Int32 = 1000) throws {
        self.url = url
        self.switchboards = switchboards
        self.logger = logger
        timeout = timeoutMilliseconds
        work = try WakeupPipe()
    }

    package var location: String { url.description }

    package var appendedSinceRewrite: Int { state.withLock { $0.appended } }

    package var health: SessionStoreHealth {
        state.withLock { s in
            SessionStoreHealth(location: location, up: s.up ?? false, detail: s.up == nil ? "not reached yet" : s.detail)
        }
    }

    // MARK: The engine's side

    /// Reads the sessions of this relay's gates. Redis that cannot be reached within a few
    /// attempts is logged and gives no session (the relay starts empty and, when Redis comes,
    /// writes its own sessions over what the gates' hashes held).
    package func load() throws -> (records: [JournalRecord], skipped: Int) {
        var lastError = ""
        for attempt in 0..<3 {
            do {
                return try read(RedisConnection(url: url, timeoutMilliseconds: timeout))
            } catch {
                lastError = "\(error)"
                if attempt < 2 { _ = work.wait(milliseconds: 300) }
            }
        }
        logger.error("session store \(location): cannot read the sessions to restore (\(lastError)); the relay starts without them")
        return ([], 0)
    }

    private func read(_ connection: RedisConnection) throws -> (records: [JournalRecord], skipped: Int) {
        var records: [JournalRecord] = []
        var skipped = 0
        for sw in switchboards.all {
            let key = RedisSessionCodec.key(sw)
            switch try connection.command([Array("HGETALL".utf8), Array(key.utf8)]) {
            case .array(let items):
                var i = 0
                while i + 1 < items.count {
                    defer { i += 2 }
                    guard case .string(let field) = items[i], case .string(let value) = items[i + 1] else {
                        skipped += 1
                        warnSkipped(key, "an entry that is not a field and a value", skipped)
                        continue
                    }
                    switch RedisSessionCodec.records(field: field, value: value, switchboard: sw) {
                    case .success(let r): records += r
                    case .failure(let why):
                        skipped += 1
                        warnSkipped(key, why.description, skipped)
                    }
                }
            case .error(let message):
                skipped += 1
                warnSkipped(key, "Redis says \(message)", skipped)
            default:
                skipped += 1
                warnSkipped(key, "not a hash", skipped)
            }
        }
        return (records, skipped)
    }

    /// One warning per skipped entry, up to 100 (then the engine's summary line says how many).
    private func warnSkipped(_ key: String, _ why: String, _ count: Int) {
        guard count <= 100 else { return }
        logger.warning("session store \(location): \(key): skipped: \(why)")
    }

    package func append(_ records: [JournalRecord]) throws {
        guard !records.isEmpty else { return }
        let wake = state.withLock { s -> Bool in
            let wasIdle = s.dirty.isEmpty && !s.resync
            for r in records {
                s.mirror.apply(r)
                s.dirty.insert(SessionKey(switchboard: r.switchboard.lowercased(), id: r.session.id))
            }
            s.appended += records.count
            return wasIdle
        }
        startWriter()
        if wake { work.signal() }
    }

    package func rewrite(_ records: [JournalRecord]) throws {
        state.withLock { s in
            s.mirror = JournalState(replaying: records)
            s.dirty.removeAll()
            s.resync = true
            s.appended = 0
        }
        startWriter()
        work.signal()
    }

    /// Sends what is left and stops the writer.
    package func close() {
        state.withLock { $0.stopping = true }
        work.signal()
        let thread = writer.withLock { w -> PosixThread? in
            defer { w = nil }
            return w
        }
        thread?.join()
        state.withLock { $0.stopping = false }
    }

    // MARK: The writer

    private func startWriter() {
        writer.withLock { w in
            guard w == nil else { return }
            do {
                w = try PosixThread(name: "ipt-redis") { [self] in runWriter() }
            } catch {
                logger.error("session store \(location): cannot start its writer thread: \(error); sessions are not written")
            }
        }
    }

    private func runWriter() {
        var connection: RedisConnection?
        while true {
            if work.wait(milliseconds: 1000) {
                // Let the changes of the next 2 ms gather into the same pipeline: under load one
                // round trip then carries many calls' changes instead of one each.
                usleep(Self.gatherMicroseconds)
                work.drain()
            }
            let stopping = state.withLock { $0.stopping }
            connection = flush(connection)
            if stopping { return }
        }
    }

    /// Sends the dirty sessions (everything after a resync) or, with nothing to send, a PING.
    /// Returns the connection to keep, nil when it broke.
    private func flush(_ current: RedisConnection?) -> RedisConnection? {
        var connection = current
        if connection == nil || connection!.isBroken {
            do {
                connection = try RedisConnection(url: url, timeoutMilliseconds: timeout)
            } catch {
                markDown("\(error)")
                return nil
            }
        }
        guard let connection else { return nil }
        let (commands, sessions, wasResync) = takeWork()
        do {
            let replies = try connection.pipeline(commands.isEmpty ? [[Array("PING".utf8)]] : commands)
            for case .error(let message) in replies {
                // Redis is there but does not take writes (out of memory, a read-only replica):
                // as good as down; everything is written again once it takes them.
                state.withLock { $0.resync = true }
                markDown("Redis refused a write: \(message)")
                return connection
            }
            markUp(wroteBack: wasResync ? sessions : nil)
            return connection
        } catch {
            // Whatever this round carried is written again, with everything else, on return.
            state.withLock { $0.resync = true }
            markDown("\(error)")
            return nil
        }
    }

    /// The commands of one round, the number of sessions they carry, and whether they replace
    /// the hashes (a resync).
    private func takeWork() -> ([[[UInt8]]], Int, Bool) {
        state.withLock { s in
            var commands: [[[UInt8]]] = []
            var count = 0
            if s.resync {
                for sw in switchboards.all {
                    let key = Array(RedisSessionCodec.key(sw).utf8)
                    commands.append([Array("DEL".utf8), key])
                    let live = (s.mirror.live[sw.name.lowercased()] ?? [:]).sorted { $0.key < $1.key }
                    for chunk in stride(from: 0, to: live.count, by: 500) {
                        var hset: [[UInt8]] = [Array("HSET".utf8), key]
                        for (id, l) in live[chunk..<min(chunk + 500, live.count)] {
                            hset.append(Array(String(id).utf8))
                            hset.append(Array(RedisSessionCodec.value(l, switchboard: sw.name).utf8))
                        }
                        commands.append(hset)
                    }
                    count += live.count
                }
                s.resync = false
                s.dirty.removeAll()
                return (commands, count, true)
            }
            for k in s.dirty {
                guard let sw = switchboards.named(k.switchboard) else { continue }
                let key = Array(RedisSessionCodec.key(sw).utf8)
                if let l = s.mirror.live[k.switchboard]?[k.id] {
                    commands.append([Array("HSET".utf8), key, Array(String(k.id).utf8), Array(RedisSessionCodec.value(l, switchboard: sw.name).utf8)])
                } else {
                    commands.append([Array("HDEL".utf8), key, Array(String(k.id).utf8)])
                }
                count += 1
            }
            s.dirty.removeAll()
            // Freed slots only matter to the journal (a resting slot); Redis keeps live sessions.
            s.mirror.freed.removeAll()
            return (commands, count, false)
        }
    }

    private func markDown(_ reason: String) {
        let first = state.withLock { s -> Bool in
            defer {
                s.up = false
                s.detail = reason
                s.resync = true
            }
            return s.up != false
        }
        if first {
            logger.error("session store \(location) is unreachable: \(reason); the relay goes on, and writes its sessions back when Redis returns")
        }
    }

    private func markUp(wroteBack sessions: Int?) {
        let wasDown = state.withLock { s -> Bool in
            defer {
                s.up = true
                s.detail = nil
            }
            return s.up == false
        }
        if wasDown {
            logger.notice("session store \(location) is reachable again: wrote \(sessions ?? 0) live session(s) back")
        }
    }
}
