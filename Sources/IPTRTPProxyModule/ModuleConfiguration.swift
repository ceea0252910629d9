import IPTRTPProxyCore

/// The module's configuration as the modparams build it, in the host's main process while the
/// host parses its script (spec §2): `config` reads the cfg file once and only before any
/// `switchboard` line; the first `switchboard` line (or module init) reads the default file if
/// `config` was not given; `relay` picks the media plane.
struct ModuleConfiguration {
    /// Read when no `config` modparam names another file.
    static let defaultConfigPath = "/etc/iptrtpproxy.cfg"

    /// The cfg file that was read, once it was.
    private(set) var configPath: String?
    /// The switchboards with every `switchboard` line applied; nil until the cfg file was read.
    private(set) var applier: SwitchboardParamApplier?
    /// Where the media plane runs.
    private(set) var relay: RelaySetting = .embedded
    private var relayGiven = false
    /// The shared secret of a TCP control connection (`relay_secret`).
    private(set) var relaySecret: String?
    /// PEM files for a `tls:` relay (`relay_tls_ca`, `relay_tls_cert`, `relay_tls_key`).
    private(set) var relayTLSFiles = TLSFiles()
    /// The embedded relay's session journal (`relay_journal`): its calls survive a proxy restart.
    private(set) var relayJournal: String?
    /// Longest wait for the relay, in milliseconds (`relay_timeout`).
    private(set) var relayTimeout: Int32 = ModuleConfiguration.defaultRelayTimeout

    /// A worker waits at most this long for the relay before its function returns -1.
    static let defaultRelayTimeout: Int32 = 1000

    /// modparam `config`.
    mutating func setConfig(_ path: String) throws {
        guard applier == nil else {
            let read = configPath ?? Self.defaultConfigPath
            throw ModuleConfigError(
                "modparam 'config' may be given once and before any 'switchboard' modparam ('\(read)' was already read)")
        }
        let trimmed = path.trimmingSpaces
        guard !trimmed.isEmpty else { throw ModuleConfigError("modparam 'config' needs a file name") }
        try read(trimmed)
    }

    /// modparam `switchboard` (repeatable).
    mutating func addSwitchboardParam(_ text: String) throws {
        if applier == nil { try read(Self.defaultConfigPath) }
        guard var a = applier else { return }
        do {
            try a.apply(text)
        } catch let e as ConfigError {
            throw ModuleConfigError(e.description)
        }
        applier = a
    }

    /// modparam `relay`.
    mutating func setRelay(_ text: String) throws {
        guard !relayGiven else { throw ModuleConfigError("modparam 'relay' may be given once") }
        relay = try RelaySetting(parsing: text)
        relayGiven = true
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

    /// modparam `relay_journal`.
    mutating func setRelayJournal(_ text: String) throws {
        let path = text.trimmingSpaces
        guard path.hasPrefix("/") else { throw ModuleConfigError("modparam 'relay_journal' needs an absolute path, not '\(path)'") }
        relayJournal = path
    }

    /// modparam `relay_timeout` (milliseconds).
    mutating func setRelayTimeout(_ milliseconds: Int32) throws {
        guard milliseconds >= 10 && milliseconds <= 60000 else {
            throw ModuleConfigError("modparam 'relay_timeout' must be 10-60000 milliseconds, not \(milliseconds)")
        }
        relayTimeout = milliseconds
    }

    /// Module init: the final switchboards (reading the default cfg file if nothing was read).
    mutating func finish() throws -> SwitchboardSet {
        if applier == nil { try read(Self.defaultConfigPath) }
        guard let a = applier else { throw ModuleConfigError("no switchboard configuration") }
        if relayJournal != nil && relay != .embedded {
            throw ModuleConfigError("modparam 'relay_journal' is for the embedded relay; an external iptrtpproxyd keeps its own (--journal)")
        }
        guard !a.switchboards.all.isEmpty else {
            throw ModuleConfigError("'\(configPath ?? Self.defaultConfigPath)' declares no [switchboard:NAME]")
        }
        if relayTLSFiles != TLSFiles() {
            guard case .external(.tls) = relay else {
                throw ModuleConfigError("modparams relay_tls_* are for a relay given as tls:HOST:PORT")
            }
        }
        if case .external(.tls) = relay, relayTLSFiles.ca == nil {
            throw ModuleConfigError("relay \(relay) needs modparam relay_tls_ca: the relay's certificate is always verified")
        }
        if case .external(let address) = relay, relaySecret == nil {
            switch address {
            case .tcp, .tls:
                throw ModuleConfigError("relay \(relay) needs modparam relay_secret: a TCP or TLS relay asks every client for it")
            case .unix:
                break
            }
        }
        return a.switchboards
    }

    private mutating func read(_ path: String) throws {
        let text = try ConfigFileReader.text(of: path)
        do {
            applier = SwitchboardParamApplier(try SwitchboardConfigParser.parse(text, fileName: path))
        } catch let e as ConfigError {
            throw ModuleConfigError(e.description)
        }
        configPath = path
    }
}
