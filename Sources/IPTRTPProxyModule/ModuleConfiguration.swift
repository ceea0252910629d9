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

    /// Module init: the final switchboards (reading the default cfg file if nothing was read).
    mutating func finish() throws -> SwitchboardSet {
        if applier == nil { try read(Self.defaultConfigPath) }
        guard let a = applier else { throw ModuleConfigError("no switchboard configuration") }
        guard !a.switchboards.all.isEmpty else {
            throw ModuleConfigError("'\(configPath ?? Self.defaultConfigPath)' declares no [switchboard:NAME]")
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
