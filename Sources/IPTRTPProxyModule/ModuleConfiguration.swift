import IPTRTPProxyClient
import IPTRTPProxyCore

/// The module's configuration as the modparams build it, in the host's main process while the
/// host parses its script (spec §2). Module init (`finish`) puts it together: with the embedded
/// relay or xt, the switchboards come from the cfg file (`config`, else the default file) with
/// every `switchboard` line applied; with external relays (`relay` lines naming media hosts) they
/// come from the relays themselves, and no local file is read.
struct ModuleConfiguration {
    /// Read when no `config` modparam names another file.
    static let defaultConfigPath = "/etc/iptrtpproxy.cfg"

    /// The cfg file the `config` modparam named.
    private(set) var configPath: String?
    /// The `switchboard` modparam lines, in order (checked when given, applied at module init or
    /// to the switchboards learned from each relay).
    private(set) var switchboardParams: [String] = []
    /// Where the media plane runs: the embedded relay (default), xt, or the media hosts.
    private(set) var plane: MediaPlaneSetting = .embedded
    private var relayGiven = false
    /// The shared secret of a TCP or TLS control connection (`relay_secret`), for every host
    /// without a `secret=` of its own.
    private(set) var relaySecret: String?
    /// PEM files for `tls:` relays (`relay_tls_ca`, `relay_tls_cert`, `relay_tls_key`).
    private(set) var relayTLSFiles = TLSFiles()
    /// The embedded relay's session journal (`relay_journal`): its calls survive a proxy restart.
    private(set) var relayJournal: JournalSetting = .runtimeFolder
    /// Where the embedded relay serves its Prometheus metrics (`relay_metrics`), nil: nowhere.
    private(set) var relayMetrics: Endpoint?
    /// Longest wait for a relay, in milliseconds (`relay_timeout`).
    private(set) var relayTimeout: Int32 = ModuleConfiguration.defaultRelayTimeout
    /// Freed sessions whose sockets the embedded relay keeps bound for the next session on the
    /// same ports (`relay_keep_sockets`); nil: the relay's default (`RelayConfiguration.keptSessions`).
    private(set) var relayKeptSessions: Int?
    /// How often the prober asks every media host whether it answers, in milliseconds
    /// (`relay_probe_interval`).
    private(set) var probeInterval: Int32 = ModuleConfiguration.defaultProbeInterval

    /// A worker waits at most this long for the relay before its function returns -1.
    static let defaultRelayTimeout: Int32 = 1000
    /// The prober's default round.
    static let defaultProbeInterval: Int32 = 1000

    /// Where the embedded relay keeps its journal.
    enum JournalSetting: Equatable {
        /// `iptrtpproxy.journal` in the host's runtime folder (default).
        case runtimeFolder
        /// The file `relay_journal` names.
        case path(String)
        /// `relay_journal` was given empty: no journal, a proxy restart ends every call's media.
        case off
    }

    /// Where the media plane runs, all `relay` lines together.
    enum MediaPlaneSetting: Equatable, CustomStringConvertible {
        /// The relay engine in a helper process of the proxy.
        case embedded
        /// The xt_RTPPROXY kernel target.
        case xt(libraryPath: String?)
        /// External relays: one or more media hosts, in modparam order.
        case relays([RelayEndpoint])

        var description: String {
            switch self {
            case .embedded: return "embedded"
            case .xt(let path): return path.map { "xt:\($0)" } ?? "xt"
            case .relays(let hosts): return hosts.map(\.description).joined(separator: ", ")
            }
        }
    }

    /// modparam `config`: the cfg file of the embedded relay or xt (read at module init).
    mutating func setConfig(_ path: String) throws {
        guard configPath == nil else {
            throw ModuleConfigError("modparam 'config' may be given once ('\(configPath!)' was given)")
        }
        guard switchboardParams.isEmpty else {
            throw ModuleConfigError("modparam 'config' must come before any 'switchboard' modparam")
        }
        let trimmed = path.trimmingSpaces
        guard !trimmed.isEmpty else { throw ModuleConfigError("modparam 'config' needs a file name") }
        configPath = trimmed
    }

    /// modparam `switchboard` (repeatable): checked now, applied at module init or to what the
    /// relays declare.
    mutating func addSwitchboardParam(_ text: String) throws {
        do {
            try SwitchboardParamApplier.check(text)
        } catch let e as ConfigError {
            throw ModuleConfigError(e.description)
        }
        switchboardParams.append(text)
    }

    /// modparam `relay` (repeatable for media hosts): `embedded` and `xt` stand alone.
    mutating func setRelay(_ text: String) throws {
        let line = try RelaySetting(parsing: text)
        defer { relayGiven = true }
        guard relayGiven else {
            switch line {
            case .embedded: plane = .embedded
            case .xt(let path): plane = .xt(libraryPath: path)
            case .external(let host): plane = .relays([host])
            }
            return
        }
        guard case .relays(var hosts) = plane, case .external(let host) = line else {
            throw ModuleConfigError(
                "modparam 'relay' '\(text.trimmingSpaces)': 'embedded' and 'xt' cannot be mixed with other relay lines (\(plane) was given)")
        }
        if let twin = hosts.first(where: { $0.address == host.address }) {
            throw ModuleConfigError("modparam 'relay' '\(text.trimmingSpaces)': \(twin.address) is given twice")
        }
        if let twin = hosts.first(where: { $0.id == host.id }) {
            throw ModuleConfigError(
                "modparam 'relay' '\(text.trimmingSpaces)': id '\(host.id)' is already the id of \(twin.address)")
        }
        hosts.append(host)
        plane = .relays(hosts)
    }

    /// modparam `relay_secret`.
    mutating func setRelaySecret(_ text: String) throws {
        guard !text.isEmpty else { throw ModuleConfigError("modparam 'relay_secret' is empty") }
        // The relay refuses shorter secrets; say so at load time rather than at the first call.
        guard text.utf8.count >= 16 else {
            throw ModuleConfigError("modparam 'relay_secret' has \(text.utf8.count) bytes; the relay needs at least 16 (e.g. 32 random hex digits)")
        }
        relaySecret = text
    }

    /// The files of a TLS client: the CA that signed the relay's certificate, and a client
    /// certificate and key where the relay asks for one.
    struct TLSFiles: Equatable {
        enum Part: String { case ca = "relay_tls_ca", certificate = "relay_tls_cert", key = "relay_tls_key" }
        var ca: String?
        var certificate: String?
        var key: String?
    }

    /// modparams `relay_tls_ca`, `relay_tls_cert`, `relay_tls_key`: absolute paths.
    mutating func setRelayTLS(_ part: TLSFiles.Part, _ text: String?) throws {
        guard let path = text?.trimmingSpaces, path.hasPrefix("/") else {
            throw ModuleConfigError("modparam '\(part.rawValue)' must be an absolute path")
        }
        switch part {
        case .ca: relayTLSFiles.ca = path
        case .certificate: relayTLSFiles.certificate = path
        case .key: relayTLSFiles.key = path
        }
    }

    /// modparam `relay_journal`: an absolute path, or empty for no journal.
    mutating func setRelayJournal(_ text: String) throws {
        let path = text.trimmingSpaces
        if path.isEmpty {
            relayJournal = .off
            return
        }
        guard path.hasPrefix("/") else {
            throw ModuleConfigError("modparam 'relay_journal' needs an absolute path (or \"\" for no journal), not '\(path)'")
        }
        relayJournal = .path(path)
    }

    /// modparam `relay_metrics`: `ADDRESS:PORT` (IPv6 in brackets) where the embedded relay serves
    /// `/metrics`; empty for none.
    mutating func setRelayMetrics(_ text: String) throws {
        let value = text.trimmingSpaces
        if value.isEmpty {
            relayMetrics = nil
            return
        }
        guard let endpoint = ControlProtocol.parseEndpoint(value), endpoint.port != 0 else {
            throw ModuleConfigError(
                "modparam 'relay_metrics' must be ADDRESS:PORT with a numeric address and a port 1-65535 (e.g. 127.0.0.1:9108 or [::1]:9108), not '\(value)'")
        }
        relayMetrics = endpoint
    }

    /// modparam `relay_timeout` (milliseconds).
    mutating func setRelayTimeout(_ milliseconds: Int32) throws {
        guard milliseconds >= 10 && milliseconds <= 60000 else {
            throw ModuleConfigError("modparam 'relay_timeout' must be 10-60000 milliseconds, not \(milliseconds)")
        }
        relayTimeout = milliseconds
    }

    /// modparam `relay_keep_sockets` (sessions; 0 closes a session's sockets when it ends).
    mutating func setKeptSessions(_ sessions: Int32) throws {
        guard sessions >= 0 else {
            throw ModuleConfigError("modparam 'relay_keep_sockets' must be 0 or more sessions, not \(sessions)")
        }
        relayKeptSessions = Int(sessions)
    }

    /// modparam `relay_probe_interval` (milliseconds).
    mutating func setProbeInterval(_ milliseconds: Int32) throws {
        guard milliseconds >= 100 && milliseconds <= 600_000 else {
            throw ModuleConfigError("modparam 'relay_probe_interval' must be 100-600000 milliseconds, not \(milliseconds)")
        }
        probeInterval = milliseconds
    }

    /// The media hosts, when the plane is external relays.
    var relays: [RelayEndpoint] {
        if case .relays(let hosts) = plane { return hosts }
        return []
    }

    /// The secret that answers `host`'s challenge: its own, else `relay_secret`.
    func secret(for host: RelayEndpoint) -> String? { host.secret ?? relaySecret }

    /// Module init: checks that the modparams fit together and returns the switchboards of the
    /// embedded relay or xt (read from the cfg file now); nil with external relays, whose
    /// switchboards come from the relays.
    mutating func finish() throws -> SwitchboardSet? {
        if case .path = relayJournal, plane != .embedded {
            throw ModuleConfigError("modparam 'relay_journal' is for the embedded relay; an external iptrtpproxyd keeps its own (--journal)")
        }
        if relayMetrics != nil && plane != .embedded {
            throw ModuleConfigError("modparam 'relay_metrics' is for the embedded relay; an external iptrtpproxyd serves its own (--metrics)")
        }
        let hosts = relays
        let tlsHosts = hosts.filter { $0.address.isTLS }
        if relayTLSFiles != TLSFiles() && tlsHosts.isEmpty {
            throw ModuleConfigError("modparams relay_tls_* are for relays given as tls:HOST:PORT")
        }
        if let host = tlsHosts.first, relayTLSFiles.ca == nil {
            throw ModuleConfigError("relay \(host.address) needs modparam relay_tls_ca: the relay's certificate is always verified")
        }
        for host in hosts where secret(for: host) == nil {
            switch host.address {
            case .tcp, .tls:
                throw ModuleConfigError(
                    "relay \(host.address) needs modparam relay_secret (or ;secret= on its relay line): a TCP or TLS relay asks every client for it")
            case .unix:
                break
            }
        }
        guard hosts.isEmpty else { return nil }
        let path = configPath ?? Self.defaultConfigPath
        var applier: SwitchboardParamApplier
        do {
            applier = SwitchboardParamApplier(try SwitchboardConfigParser.parse(try ConfigFileReader.text(of: path), fileName: path))
            for line in switchboardParams { try applier.apply(line) }
        } catch let e as ConfigError {
            throw ModuleConfigError(e.description)
        }
        guard !applier.switchboards.all.isEmpty else {
            throw ModuleConfigError("'\(path)' declares no [switchboard:NAME]")
        }
        if case .xt = plane, let forced = applier.switchboards.all.first(where: { $0.ice == .force }) {
            throw ModuleConfigError(
                "switchboard '\(forced.name)': ice=force needs a relay that answers ICE checks (embedded or media hosts); xt_RTPPROXY cannot")
        }
        return applier.switchboards
    }

    /// The switchboards a relay declared, with every `switchboard` line applied that names one
    /// of them (or `*`); the names of the lines that named none.
    func applyParams(to declared: SwitchboardSet) -> (switchboards: SwitchboardSet, unmatched: [String]) {
        var applier = SwitchboardParamApplier(declared)
        var unmatched: [String] = []
        for line in switchboardParams {
            // Each line was checked when it was given; a line cannot fail here.
            if (try? applier.applyIfDeclared(line)) != true {
                unmatched.append((try? SwitchboardParamApplier.check(line)) ?? line)
            }
        }
        return (applier.switchboards, unmatched)
    }
}
