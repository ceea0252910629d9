import ArgumentParser
import Glibc
import IPTRTPProxyAuth
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import IPTRTPProxyTLS
import KernelOffload
import Logging
import RTPRelay
import RelayRedisStore

/// `iptrtpproxyd`: the relay in the foreground, for systemd or a terminal.
@main
struct RelayDaemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iptrtpproxyd",
        abstract: "Relay RTP and RTCP between the two gates of each session (user space).",
        discussion: """
            Runs in the foreground and logs to standard error. Stops cleanly on SIGTERM or SIGINT; \
            sessions are journaled (--journal) so that a restarted relay keeps calls going. \
            Nothing is reloaded on SIGHUP: restart to apply a new configuration.

            Example:
              iptrtpproxyd --config /etc/iptrtpproxy.cfg \\
                --switchboard-param 'name=*;learning-timeout-a=10;learning-timeout-b=10' \\
                --control unix:/run/iptrtpproxy/control.sock --journal /var/lib/iptrtpproxy/journal

            Exit status: 0 after a clean stop, 64 for a bad command line, 78 for a file it names \
            (--config, --secret-file, TLS files) that cannot be read or is wrong, 1 when it cannot \
            start (a port or socket it cannot bind, kernel offload refused).
            """,
        version: IPTRTPProxyVersion.string)

    /// Parses and runs with the statuses of `ExitStatus`: what `validate()` refuses is the command
    /// line (64); what `run()` refuses with a `ValidationError` is the content of a file the command
    /// line names (78).
    static func main() {
        let daemon: RelayDaemon
        do {
            var command = try parseAsRoot()
            guard let parsed = command as? RelayDaemon else {
                // `--help` and the like parse as the parser's own command: it prints and ends with 0.
                try command.run()
                exit()
            }
            daemon = parsed
        } catch {
            exit(withError: error)
        }
        do {
            try daemon.run()
        } catch let e as ValidationError {
            let line = Array("Error: \(e.message)\n".utf8)
            _ = line.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            Glibc.exit(ExitStatus.configuration.rawValue)
        } catch {
            exit(withError: error)
        }
    }

    @Option(name: .customLong("config"), help: ArgumentHelp("The switchboards file (iptrtpproxy.cfg).", valueName: "file"))
    var configFile: String = "/etc/iptrtpproxy.cfg"

    @Option(name: .customLong("switchboard-param"), help: ArgumentHelp(
        "A `switchboard` modparam value, e.g. 'name=*;learning-timeout-a=10;ringing-timeout=90'. Repeatable; applied in order.",
        valueName: "params"))
    var switchboardParams: [String] = []

    @Option(help: ArgumentHelp("Control socket: unix:PATH (created with mode 0660).", valueName: "unix:path"))
    var control: String = "unix:/run/iptrtpproxy/control.sock"

    @Option(name: .customLong("control-tcp"), help: ArgumentHelp(
        "Also listen for control requests on TCP (for remote SIP proxies); requires --secret-file. Bind loopback unless media hosts are remote.",
        valueName: "address:port"))
    var controlTCP: String?

    @Option(name: .customLong("control-tls"), help: ArgumentHelp(
        "Also listen for control requests over TLS (for SIP proxies across networks); needs --tls-cert, --tls-key and --secret-file.",
        valueName: "address:port"))
    var controlTLS: String?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("The relay's certificate (PEM, chain allowed) for --control-tls.", valueName: "file"))
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The private key of --tls-cert (PEM).", valueName: "file"))
    var tlsKey: String?

    @Option(name: .customLong("tls-ca"), help: ArgumentHelp(
        "Ask TLS control clients for a certificate signed by this CA (PEM); without it any client that proves the secret is served.",
        valueName: "file"))
    var tlsCA: String?

    @Option(name: .customLong("secret-file"), help: ArgumentHelp(
        "File whose first line is the shared secret (at least 16 bytes) that TCP clients prove they hold; it never crosses the wire.",
        valueName: "file"))
    var secretFile: String?

    @Option(name: .customLong("control-max-connections"), help: "Connections one TCP control listener takes at once.")
    var controlMaxConnections: Int = ControlLimits.network.maxConnections

    @Option(name: .customLong("control-auth-timeout"), help: "Seconds a TCP control client has to authenticate.")
    var controlAuthTimeout: Double = Double(ControlLimits.network.authTimeout) / 1000

    @Option(name: .customLong("control-idle-timeout"), help: "Seconds a TCP control connection may stay silent (0: no limit).")
    var controlIdleTimeout: Double = Double(ControlLimits.network.idleTimeout) / 1000

    @Option(help: ArgumentHelp("Session journal file; sessions survive a restart when set. One relay per file (it holds FILE.lock while it runs).", valueName: "file"))
    var journal: String?

    @Option(help: ArgumentHelp(
        "Keep every session in Redis, so that a relay started with the same switchboards file and the same Redis (another host that took the gate addresses over, or this one after a crash) restores them, latches included. Also the key 'redis' of the cfg file's [relay] section. Not with --journal.",
        valueName: "redis://[:password@]host[:port][/db]"))
    var redis: String?

    @Option(help: ArgumentHelp("Serve Prometheus metrics over HTTP at this address.", valueName: "address:port"))
    var metrics: String?

    @Option(help: "Forwarding threads (default: one per CPU). With --shared-sockets fewer threads read bigger batches (each thread gets only its own sessions' packets): size it to the packet rate, not the CPU count ('--workers 1' forwarded 50,000 pps at the least CPU per packet; docs/shared-sockets.md).")
    var workers: Int?

    @Option(name: .customLong("keep-sockets"), help: ArgumentHelp(
        "Freed sessions whose four sockets stay bound for the next session on the same ports, which then opens none (they read and drop what arrives meanwhile; ports are still drawn at random, so all are kept once all have been used). Default: every session slot, as long as live and kept sessions hold at most three quarters of the file limit; 0: close them on delete. Unused with --shared-sockets.",
        valueName: "sessions"))
    var keepSockets: Int?

    @Option(name: .customLong("learning-timeout"), help: "Learning window in seconds for streams whose requests give none.")
    var learningTimeout: UInt32 = RelayConfiguration.defaultLearningWindow

    @Option(name: .customLong("max-stream-pps"), help: "Flood throttle: average packets per second one stream may send, for switchboards that set no max-stream-pps (default 3000: audio is 50, HD video about 400).")
    var maxStreamPPS: Double = FloodLimit().packetsPerSecond

    @Option(name: .customLong("max-stream-burst"), help: "Flood throttle: packets one stream may send at once, for switchboards that set no max-stream-burst (default 500).")
    var maxStreamBurst: Double = FloodLimit().burst

    @Flag(name: .customLong("kernel-offload"), help: ArgumentHelp(
        "Forward latched streams in the kernel: XDP on every interface but loopback where the program loads and attaches (IPv4 and IPv6), else the nftables table 'netdev iptrtpproxy' (IPv4). Needs CAP_BPF and CAP_NET_ADMIN (nftables: CAP_NET_ADMIN). The relay refuses to start when no kernel path starts."))
    var kernelOffload = false

    @Option(name: .customLong("kernel-offload-path"), help: ArgumentHelp(
        "With --kernel-offload: auto (XDP, else nftables; the choice is logged and shown by info), xdp or nftables.",
        valueName: "path"))
    var kernelOffloadPath: KernelOffloadPath = .auto

    @Option(name: .customLong("xdp-mode"), help: ArgumentHelp(
        "Where the XDP program runs: auto (native on interfaces with a device of their own, generic on virtual ones such as veth, where generic measured faster; tc where the XDP hook is taken), native, generic, or tc (the same fast path as a tc ingress classifier).",
        valueName: "mode"))
    var xdpMode: XDPMode = .auto

    @Option(name: .customLong("xdp-streams"), help: ArgumentHelp(
        "Streams (RTP or RTCP of one session) the XDP map holds at most; further streams stay in user space and stats counts them (default 65536).",
        valueName: "count"))
    var xdpStreams: UInt32 = XDPStreamOffload.defaultCapacity / 2

    @Flag(name: .customLong("shared-sockets"), help: ArgumentHelp(
        "Receive every session's ports on one socket per forwarding thread (an sk_lookup eBPF program steers the gates' port ranges to it; the relay sends through raw sockets): no sockets per session, far cheaper alloc, fewer wakeups per packet. Needs CAP_BPF, CAP_NET_ADMIN and CAP_NET_RAW; when the program cannot be loaded the relay logs one line and binds a socket per port. Also the key 'shared-sockets = yes' of the cfg file's [relay] section."))
    var sharedSockets = false

    @Option(name: .customLong("coalesce-us"), help: "Microseconds a worker lets packets gather after a wakeup at light load (0: never). Measured: no CPU saved, with or without --shared-sockets, and every packet waits that much longer (BENCHMARKS.md).")
    var coalesceMicroseconds: Int = RelayConfiguration.defaultCoalescing

    @Option(name: .customLong("log-level"), help: ArgumentHelp(
        "trace, debug, info, notice, warning, error or critical (default info). Also the key 'log-level' of the cfg file's [relay] section; this option wins.",
        valueName: "level"))
    var logLevel: String?

    @Option(name: .customLong("log-prefix"), help: ArgumentHelp(
        "syslog: start each line with its syslog priority (<2>..<7>, read by journald: journalctl -p warning); none: a timestamp instead; auto: syslog when standard error is the journal (JOURNAL_STREAM).",
        valueName: "syslog|none|auto"))
    var logPrefix: String = LogPrefixMode.auto.rawValue

    @Flag(name: .customLong("no-notify"), help: ArgumentHelp(
        "Do not tell systemd (NOTIFY_SOCKET, Type=notify) that the relay is ready or stopping."))
    var noNotify = false

    func validate() throws {
        try validateLogging()
        guard control.hasPrefix("unix:"), control.count > 5 else {
            throw ValidationError("--control must be unix:PATH (use --control-tcp for TCP)")
        }
        for (option, value) in [("--control-tcp", controlTCP), ("--control-tls", controlTLS), ("--metrics", metrics)] {
            if let value, ControlProtocol.parseEndpoint(value).map({ $0.port != 0 }) != true {
                throw ValidationError("\(option) '\(value)' is not ADDRESS:PORT")
            }
        }
        if controlTCP != nil && secretFile == nil {
            throw ValidationError("--control-tcp needs --secret-file: TCP clients must authenticate")
        }
        if controlTLS != nil && (secretFile == nil || tlsCert == nil || tlsKey == nil) {
            throw ValidationError("--control-tls needs --tls-cert, --tls-key and --secret-file")
        }
        if controlTLS == nil && (tlsCert != nil || tlsKey != nil || tlsCA != nil) {
            throw ValidationError("--tls-cert, --tls-key and --tls-ca go with --control-tls")
        }
        if controlMaxConnections < 1 || !(controlAuthTimeout > 0) || controlIdleTimeout < 0 {
            throw ValidationError("--control-max-connections must be at least 1, --control-auth-timeout positive, --control-idle-timeout 0 or more")
        }
        if let w = workers, w < 1 { throw ValidationError("--workers must be at least 1") }
        if let k = keepSockets, k < 0 { throw ValidationError("--keep-sockets must be 0 or more") }
        guard (0...100_000).contains(coalesceMicroseconds) else { throw ValidationError("--coalesce-us must be 0-100000") }
        guard maxStreamPPS > 0, maxStreamBurst >= 1 else {
            throw ValidationError("--max-stream-pps must be positive and --max-stream-burst at least 1")
        }
        if let redis {
            do { _ = try RedisURL(parsing: redis) } catch { throw ValidationError("--redis: \(error)") }
            if journal != nil { throw ValidationError("--redis and --journal: choose one session store") }
        }
    }

    func run() throws {
        let (switchboards, relaySettings) = try loadSwitchboards()
        try bootstrapLogging(relaySettings: relaySettings)
        let logger = Logger(label: "iptrtpproxyd")
        var redisURL: RedisURL?
        if let text = redis ?? relaySettings["redis"] {
            do { redisURL = try RedisURL(parsing: text) } catch {
                throw ValidationError("\(redis == nil ? "\(configFile) [relay] redis" : "--redis"): \(error)")
            }
            if journal != nil { throw ValidationError("--journal and a Redis session store (\(configFile) [relay] redis): choose one") }
        }
        guard control.hasPrefix("unix:"), control.count > 5 else {
            throw ValidationError("--control must be unix:PATH (use --control-tcp for TCP)")
        }
        var tcp: Endpoint? = nil
        if let text = controlTCP {
            guard let e = ControlProtocol.parseEndpoint(text), e.port != 0 else {
                throw ValidationError("--control-tcp '\(text)' is not ADDRESS:PORT")
            }
            tcp = e
        }
        var tls: Endpoint? = nil
        var tlsContext: TLSContext? = nil
        if let text = controlTLS {
            guard let e = ControlProtocol.parseEndpoint(text), e.port != 0 else {
                throw ValidationError("--control-tls '\(text)' is not ADDRESS:PORT")
            }
            tls = e
            do {
                tlsContext = try TLSContext.server(certificateFile: tlsCert ?? "", keyFile: tlsKey ?? "", clientCAFile: tlsCA)
            } catch {
                throw ValidationError("--control-tls: \(error)")
            }
        }
        var metricsAddress: Endpoint? = nil
        if let text = metrics {
            guard let e = ControlProtocol.parseEndpoint(text), e.port != 0 else {
                throw ValidationError("--metrics '\(text)' is not ADDRESS:PORT")
            }
            metricsAddress = e
        }
        let secret = try secretFile.map(readSecret)
        var networkLimits = ControlLimits.network
        networkLimits.maxConnections = controlMaxConnections
        networkLimits.authTimeout = Int64(controlAuthTimeout * 1000)
        networkLimits.idleTimeout = Int64(controlIdleTimeout * 1000)
        raiseOpenFileLimit(logger)

        // Signals are taken by sigwait below; block them before any thread starts so that every
        // thread inherits the mask and none is interrupted.
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)

        var offload: (any StoppableStreamOffload)? = nil
        if kernelOffload {
            do {
                offload = try KernelOffloadStarter.start(
                    path: kernelOffloadPath, xdpMode: xdpMode, xdpCapacity: min(xdpStreams, 1 << 30) * 2, logger: logger)
            } catch {
                logger.critical("cannot start kernel offload: \(error)")
                throw ExitCode.failure
            }
        }
        var configuration = RelayConfiguration(
            switchboards: switchboards,
            workerCount: workers ?? RelayConfiguration.onlineProcessors,
            journalPath: journal,
            defaultLearningTimeout: learningTimeout,
            floodLimit: FloodLimit(packetsPerSecond: maxStreamPPS, burst: maxStreamBurst),
            coalescingMicroseconds: coalesceMicroseconds,
            offload: offload,
            logger: Logger(label: "iptrtpproxy.relay"))
        configuration.keptSessions = keepSockets
        var shared = sharedSockets
        switch relaySettings["shared-sockets"]?.lowercased() {
        case nil, "no", "false", "0", "off": break
        case "yes", "true", "1", "on": shared = true
        case let other?: throw ValidationError("\(configFile) [relay] shared-sockets must be yes or no, not '\(other)'")
        }
        if shared { configuration.sharedSockets = SKLookupSteering() }
        if let redisURL {
            configuration.sessionStore = try RedisSessionStore(
                url: redisURL, switchboards: switchboards, logger: Logger(label: "iptrtpproxy.redis"))
        }
        let engine = RelayEngine(configuration: configuration)
        let server = ControlServer(
            engine: engine,
            endpoints: ControlServer.Endpoints(
                unixPath: String(control.dropFirst(5)), tcp: tcp, tls: tls, tlsContext: tlsContext, secret: secret,
                networkLimits: networkLimits))
        let endpoint = metricsAddress.map { MetricsEndpoint(engine: engine, address: $0) }
        do {
            try engine.start()
            try server.start()
            try endpoint?.start()
        } catch {
            endpoint?.stop()
            server.stop()
            engine.stop()
            try? offload?.stop()
            logger.critical("cannot start: \(error)")
            throw ExitCode.failure
        }
        logger.notice("iptrtpproxyd \(IPTRTPProxyVersion.string) running", metadata: ["control": "\(control)"])
        let notifier = readinessNotifier(logger)
        notifyReady(notifier, sessions: engine.statistics().sessionsActive, logger)

        while true {
            var received: Int32 = 0
            guard sigwait(&signals, &received) == 0 else { continue }
            if received == SIGHUP {
                logger.notice("SIGHUP ignored: iptrtpproxyd reloads nothing; restart it to apply a new configuration")
                continue
            }
            logger.notice("signal \(received): stopping")
            break
        }
        notifyStopping(notifier, logger)
        endpoint?.stop()
        server.stop()
        engine.stop()
        // Streams in the kernel go back to nothing: a restarted relay offloads them again once
        // their clients are latched (the journal restores the latches).
        do { try offload?.stop() } catch { logger.warning("kernel offload: \(error)") }
    }

    /// The switchboards (with `--switchboard` applied) and the `[relay]` section's settings.
    private func loadSwitchboards() throws -> (SwitchboardSet, [String: String]) {
        let text: String
        do {
            text = try readFile(configFile)
        } catch {
            throw ValidationError("cannot read --config \(configFile): \(error)")
        }
        do {
            var applier = SwitchboardParamApplier(try SwitchboardConfigParser.parse(text, fileName: configFile))
            for p in switchboardParams { try applier.apply(p) }
            guard !applier.switchboards.all.isEmpty else {
                throw ValidationError("\(configFile) declares no [switchboard:NAME]")
            }
            return (applier.switchboards, try RelaySection.values(in: text, fileName: configFile))
        } catch let e as ConfigError {
            throw ValidationError(e.description)
        }
    }

    /// Every session holds four sockets: raise the soft limit on open files to the hard limit.
    private func raiseOpenFileLimit(_ logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < limit.rlim_max else { return }
        limit.rlim_cur = limit.rlim_max
        if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) != 0 {
            logger.warning("cannot raise the open-file limit; large switchboards may run out of sockets")
        }
    }

    private func readSecret(_ path: String) throws -> String {
        let text = try readFile(path)
        let secret = String(text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first ?? "")
        guard !secret.isEmpty, !secret.contains(" ") else {
            throw ValidationError("--secret-file \(path): the first line must hold the secret (no spaces)")
        }
        guard secret.utf8.count >= ControlChallenge.minimumSecretLength else {
            throw ValidationError(
                "--secret-file \(path): the secret is \(secret.utf8.count) bytes; use at least \(ControlChallenge.minimumSecretLength) (e.g. 32 random hex digits)")
        }
        return secret
    }
}

/// The whole file as UTF-8 text; the error names the file.
func readFile(_ path: String) throws -> String {
    do {
        return try FileIO.readText(path)
    } catch let e as SystemError {
        throw FileError(path: path, code: e.code)
    }
}

struct FileError: Error, CustomStringConvertible {
    var path: String
    var code: Int32
    var description: String { "\(path): \(SystemError.text(code))" }
}
