import ArgumentParser
import Foundation
import IPTRTPProxyClient
import IPTRTPProxyCore
import IPTRTPProxyTLS

/// Where the functions get their switchboards and sessions from.
struct PlaneOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The switchboard file (iptrtpproxy.cfg format).", valueName: "file"))
    var config: String = "/etc/iptrtpproxy.cfg"

    @Option(name: .customLong("switchboard-param"),
            help: ArgumentHelp("A `switchboard` modparam value, e.g. 'name=*;learning-timeout-a=10'. Repeatable.",
                               valueName: "param"))
    var switchboardParams: [String] = []

    @Option(name: .long,
            help: ArgumentHelp("""
                A running relay: unix:PATH, tcp:ADDRESS:PORT or tls:HOST:PORT. Sessions are then \
                allocated by the relay, and the switchboards come from it (--config is not read).
                """, valueName: "address"))
    var control: String?

    @Option(name: .customLong("secret-file"),
            help: ArgumentHelp("File whose first line is the shared secret of a relay's TCP or TLS control listener.", valueName: "file"))
    var secretFile: String?

    @Option(name: .customLong("tls-ca"),
            help: ArgumentHelp("CA (PEM) that signed a tls: relay's certificate; required with tls:.", valueName: "file"))
    var tlsCA: String?

    @Option(name: .customLong("tls-cert"),
            help: ArgumentHelp("Client certificate (PEM) for a tls: relay that asks for one.", valueName: "file"))
    var tlsCert: String?

    @Option(name: .customLong("tls-key"),
            help: ArgumentHelp("Private key (PEM) of --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Option(name: .long,
            help: ArgumentHelp("""
                Keep the sessions in this file between runs, so that a later update, \
                adjust-timeout or delete finds what alloc made. Without it each run starts \
                with no sessions.
                """, valueName: "file"))
    var state: String?

    /// Reads the cfg file and applies the modparams: a bad file is `CLIError.configuration`
    /// (status 78), a bad `--switchboard-param` `CLIError.usage` (64).
    func loadSwitchboards() throws -> SwitchboardSet {
        let text: String
        do {
            text = try String(contentsOfFile: config, encoding: .utf8)
        } catch {
            throw CLIError.configuration("cannot read \(config): \(error.localizedDescription)")
        }
        let parsed: SwitchboardSet
        do {
            parsed = try SwitchboardConfigParser.parse(text, fileName: config)
        } catch let e as ConfigError {
            throw CLIError.configuration(e.description)
        }
        return try applyingSwitchboardParams(to: parsed)
    }

    /// `--switchboard-param` over `switchboards`; a bad value is a usage error (64).
    func applyingSwitchboardParams(to switchboards: SwitchboardSet) throws -> SwitchboardSet {
        do {
            var applier = SwitchboardParamApplier(switchboards)
            for p in switchboardParams { try applier.apply(p) }
            return applier.switchboards
        } catch let e as ConfigError {
            throw CLIError.usage("--switchboard-param: \(e.description)")
        }
    }

    /// The client for `--control`, or nil without it.
    func openRelay() throws -> RelayControlClient? {
        guard let control else { return nil }
        var secret: String?
        if let secretFile {
            do {
                secret = try String(contentsOfFile: secretFile, encoding: .utf8)
                    .split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first.map(String.init)
            } catch {
                throw CLIError.configuration("cannot read secret file \(secretFile): \(error.localizedDescription)")
            }
        }
        var tls: TLSContext?
        if let tlsCA {
            do {
                tls = try TLSContext.client(caFile: tlsCA, certificateFile: tlsCert, keyFile: tlsKey)
            } catch {
                throw CLIError.configuration("\(error)")
            }
        } else if control.hasPrefix("tls:") {
            throw CLIError.usage("--control \(control) needs --tls-ca: the relay's certificate is always verified")
        }
        do {
            return try RelayControlClient(control, secret: secret, tls: tls)
        } catch {
            throw CLIError.usage("--control: \(error)")
        }
    }

    /// Builds the functions: over the relay of `--control` (its switchboards, with any
    /// `--switchboard-param` applied on top), or over an in-process plane restored from `--state`.
    func openFunctions() throws -> (ScriptFunctions, save: () throws -> Void) {
        if let relay = try openRelay() {
            let info: RelayInfo
            do { info = try relay.info() } catch { throw CLIError.relay("\(error)") }
            let switchboards = try applyingSwitchboardParams(to: SwitchboardSet(info.switchboards.map(\.switchboard)))
            return (ScriptFunctions(switchboards: switchboards, plane: WaitingRelayPlane(relay)), { })
        }
        let switchboards = try loadSwitchboards()
        let plane = InProcessMediaPlane(switchboards: switchboards, clock: { UInt32(time(nil)) })
        if let state {
            try PlaneStateFile(path: state).load(into: plane)
        }
        let save: () throws -> Void = {
            if let state { try PlaneStateFile(path: state).save(plane) }
        }
        return (ScriptFunctions(switchboards: switchboards, plane: plane), save)
    }
}

/// Errors that end the tool before a function runs, each with its `ExitStatus`.
enum CLIError: Error, CustomStringConvertible {
    case configuration(String)
    case usage(String)
    case relay(String)

    /// 78 for a file, 64 for an option, 69 for a relay that cannot be reached.
    var exitStatus: ExitStatus {
        switch self {
        case .configuration: return .configuration
        case .usage: return .usage
        case .relay: return .unavailable
        }
    }

    var description: String {
        switch self {
        case .configuration(let m): return "configuration: \(m)"
        case .usage(let m): return "usage: \(m)"
        case .relay(let m): return "relay: \(m)"
        }
    }
}
