import Glibc
import IPTRTPProxyClient
import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// `iptrtpproxy-bench control`: control-plane throughput of a running relay over ONE control
/// connection. For each window W (requests in flight) it allocates N sessions, updates each once
/// and deletes each once, and prints operations per second and, with `--pid`, the relay's CPU
/// per operation (from /proc/PID/stat over the phase). Sessions are spread round-robin over the
/// switchboards given, so N may exceed one switchboard's `max-sess`.
struct ControlBenchmark {
    var address: ControlAddress
    var secret: String?
    var switchboards: [String]
    var sessions: Int
    /// Window 1 is slow (one round trip per request): it runs on at most this many sessions.
    var serialSessions: Int
    var windows: [Int]
    /// Alloc-update-delete cycles per window; the figures are over all of them.
    var rounds: Int
    var pid: Int32?
    /// The client address alloc and update name (same family as the gates; loopback needs
    /// loopback gates).
    var peer: String

    static let usage = """
        USAGE: iptrtpproxy-bench control --control unix:PATH|tcp:ADDRESS:PORT --switchboard NAME[,NAME...]
                                         [--sessions N] [--serial-sessions N] [--window W[,W...]]
                                         [--rounds R] [--pid RELAY-PID] [--secret-file FILE] [--peer ADDRESS]

        One control connection; per window W, R times: N allocs, N updates, N deletes with W requests in flight.
        Defaults: --sessions 4000, --serial-sessions 1000 (the cap for W=1), --window 1,16,64, --rounds 3,
        --peer 127.0.0.9. Each session holds 4 sockets in the relay: mind its open-files limit.
        The relay must have room for N sessions over the switchboards given, with resurrection-timeout = 0
        (a deleted session's slot rests otherwise, and the next window finds none free); it is left as found.
        """

    /// Parses the arguments after `control`; throws a usage message.
    init(arguments: [String]) throws {
        var address: ControlAddress?
        var secretFile: String?
        var switchboards: [String] = []
        var sessions = 4_000, serialSessions = 1_000, rounds = 3
        var windows = [1, 16, 64]
        var pid: Int32?
        var peer = "127.0.0.9"
        var i = 0
        func value() throws -> String {
            i += 1
            guard i < arguments.count else { throw MediaPlaneError("\(arguments[i - 1]) needs a value") }
            return arguments[i]
        }
        func number(_ text: String, _ name: String) throws -> Int {
            guard let n = Int(text), n > 0 else { throw MediaPlaneError("\(name): expected a positive number, got '\(text)'") }
            return n
        }
        while i < arguments.count {
            let a = arguments[i]
            switch a {
            case "--control": address = try ControlAddress(parsing: try value())
            case "--secret-file": secretFile = try value()
            case "--switchboard": switchboards += try value().split(separator: ",").map(String.init)
            case "--sessions": sessions = try number(try value(), a)
            case "--serial-sessions": serialSessions = try number(try value(), a)
            case "--window": windows = try value().split(separator: ",").map { try number(String($0), a) }
            case "--rounds": rounds = try number(try value(), a)
            case "--pid": pid = Int32(try number(try value(), a))
            case "--peer": peer = try value()
            default: throw MediaPlaneError("unexpected argument '\(a)'")
            }
            i += 1
        }
        guard let address else { throw MediaPlaneError("--control is required") }
        guard !switchboards.isEmpty else { throw MediaPlaneError("--switchboard is required") }
        guard !windows.isEmpty else { throw MediaPlaneError("--window: none given") }
        if let secretFile {
            let text = try FileIO.readText(secretFile)
            secret = String(text.split(separator: "\n", omittingEmptySubsequences: false).first ?? "")
        }
        self.address = address
        self.switchboards = switchboards
        self.sessions = sessions
        self.serialSessions = serialSessions
        self.windows = windows
        self.rounds = rounds
        self.pid = pid
        self.peer = peer
    }

    /// One measured phase.
    struct Row {
        var operation: String
        var window: Int
        var count: Int
        var seconds: Double
        var relayMicroseconds: Int64?
    }

    func run() throws {
        let client = try WindowedControlClient(address, secret: secret)
        var rows: [Row] = []
        for w in windows {
          for _ in 0..<rounds {
            let n = w == 1 ? min(sessions, serialSessions) : sessions
            var ids = [String](repeating: "", count: n)
            let sb = { (i: Int) in switchboards[i % switchboards.count] }
            // Client ports 2000-23998 (RTP, RTCP +1) and, for the answers, 42000-63999: within 65535 for any count.
            let port = { (i: Int) in 2000 + 2 * (i % 11_000) }
            rows.append(try measure("alloc", w, n) {
                try client.run(count: n, window: w, request: { i in
                    "alloc \(sb(i)) a.always-learn=0 a.signal=\(peer) a.rtp=\(peer):\(port(i)) a.rtp-learning=90 a.rtcp=\(peer):\(port(i) + 1) a.rtcp-learning=90"
                }, reply: { i, payload in
                    guard let id = payload.split(separator: " ").first else { throw MediaPlaneError("alloc reply without an id: '\(payload)'") }
                    ids[i] = String(id)
                })
            })
            rows.append(try measure("update", w, n) {
                try client.run(count: n, window: w, request: { i in
                    "update \(sb(i)) \(ids[i]) b.always-learn=0 b.signal=\(peer) b.rtp=\(peer):\(port(i) + 40_000) b.rtcp=\(peer):\(port(i) + 40_001)"
                }, reply: { _, _ in })
            })
            rows.append(try measure("delete", w, n) {
                try client.run(count: n, window: w, request: { i in "delete \(sb(i)) \(ids[i])" }, reply: { _, _ in })
            })
          }
        }
        rows = Self.merged(rows)
        print("Control plane: one \(address.isTLS ? "TLS" : (address.description.hasPrefix("unix:") ? "Unix" : "TCP")) connection, \(switchboards.count) switchboard(s)")
        print("| operation | window | requests | ops/s | relay CPU µs/op |")
        print("|---|---:|---:|---:|---:|")
        for r in rows {
            let rate = Int((Double(r.count) / r.seconds).rounded())
            let cpu = r.relayMicroseconds.map { Self.oneDecimal(Double($0) / Double(r.count)) } ?? "-"
            print("| \(r.operation) | \(r.window) | \(r.count) | \(rate) | \(cpu) |")
        }
    }

    /// One row per operation and window: the rounds added up.
    static func merged(_ rows: [Row]) -> [Row] {
        var out: [Row] = []
        for r in rows {
            if let i = out.firstIndex(where: { $0.operation == r.operation && $0.window == r.window }) {
                out[i].count += r.count
                out[i].seconds += r.seconds
                out[i].relayMicroseconds = out[i].relayMicroseconds.flatMap { a in r.relayMicroseconds.map { a + $0 } }
            } else {
                out.append(r)
            }
        }
        return out
    }

    /// `x` with one decimal (no Foundation here).
    static func oneDecimal(_ x: Double) -> String {
        let tenths = Int((x * 10).rounded())
        return "\(tenths / 10).\(abs(tenths % 10))"
    }

    /// Writes a line to standard error.
    static func printError(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    private func measure(_ operation: String, _ window: Int, _ count: Int, _ body: () throws -> Void) throws -> Row {
        let cpu = pid.map { ProcessCPU(pid: $0) }
        let before = cpu?.microseconds()
        let clock = ContinuousClock()
        let start = clock.now
        try body()
        let elapsed = clock.now - start
        let after = cpu?.microseconds()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var relay: Int64?
        if let before, let after { relay = after - before }
        return Row(operation: operation, window: window, count: count, seconds: seconds, relayMicroseconds: relay)
    }

    /// Entry point for `iptrtpproxy-bench control ...`: exits 64 on a usage error, 1 on a failure.
    static func main(arguments: [String]) -> Never {
        if arguments.contains("-h") || arguments.contains("--help") {
            print(usage)
            exit(ExitStatus.success.rawValue)
        }
        let bench: ControlBenchmark
        do {
            bench = try ControlBenchmark(arguments: arguments)
        } catch {
            printError("Error: \(error)\n\(usage)")
            exit(ExitStatus.usage.rawValue)
        }
        do {
            try bench.run()
        } catch {
            printError("iptrtpproxy-bench control: \(error)")
            exit(ExitStatus.failure.rawValue)
        }
        exit(ExitStatus.success.rawValue)
    }
}
