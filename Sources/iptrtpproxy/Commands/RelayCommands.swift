import ArgumentParser
import IPTRTPProxyClient
import IPTRTPProxyCore

/// Options of the commands that only talk to a running relay.
struct RelayOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The relay's control socket: unix:PATH, tcp:ADDRESS:PORT or tls:HOST:PORT.", valueName: "address"))
    var control: String = "unix:/run/iptrtpproxy/control.sock"

    @Option(name: .customLong("secret-file"),
            help: ArgumentHelp("File whose first line is the shared secret of a relay's TCP or TLS control listener.", valueName: "file"))
    var secretFile: String?

    @Option(name: .customLong("tls-ca"), help: ArgumentHelp("CA (PEM) that signed a tls: relay's certificate.", valueName: "file"))
    var tlsCA: String?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("Client certificate (PEM) for a tls: relay that asks for one.", valueName: "file"))
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("Private key (PEM) of --tls-cert.", valueName: "file"))
    var tlsKey: String?

    @Flag(name: .long, help: "Print the relay's JSON reply instead of text.")
    var json = false

    /// Runs `body` against the relay; a relay that cannot be reached ends with status 69, its error
    /// reply with 1, a bad option or file with 64 or 78 (`ExitStatus`).
    func withRelay(_ body: (RelayControlClient) throws -> String) throws {
        var plane = PlaneOptions()
        plane.control = control
        plane.secretFile = secretFile
        plane.tlsCA = tlsCA
        plane.tlsCert = tlsCert
        plane.tlsKey = tlsKey
        do {
            guard let relay = try plane.openRelay() else { return }
            print(try body(relay))
        } catch let e as CLIError {
            writeToStandardError("iptrtpproxy: \(e)\n")
            throw ExitCode(e.exitStatus.rawValue)
        } catch let e as MediaPlaneError where e.planeUnavailable {
            writeToStandardError("iptrtpproxy: \(e)\n")
            throw ExitCode(ExitStatus.unavailable.rawValue)
        } catch {
            writeToStandardError("iptrtpproxy: \(error)\n")
            throw ExitCode(ExitStatus.failure.rawValue)
        }
    }
}

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Show the relay: version, uptime, workers, offload, switchboards.")
    @OptionGroup var relay: RelayOptions

    func run() throws {
        try relay.withRelay { r in relay.json ? try r.infoJSON() : try r.info().text }
    }
}

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the relay's live sessions with their counters.")
    @OptionGroup var relay: RelayOptions
    @Option(help: "Only this switchboard.") var switchboard: String?
    @Flag(help: "One more line per stream: addresses, latch, learning, kernel offload, drops.") var detailed = false

    func run() throws {
        try relay.withRelay { r in
            relay.json ? try r.listJSON(switchboard: switchboard) : try r.list(switchboard: switchboard).text(detailed: detailed)
        }
    }
}

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Show the relay's counters: sessions, packets, drops by reason.")
    @OptionGroup var relay: RelayOptions

    func run() throws {
        try relay.withRelay { r in relay.json ? try r.statsJSON() : try r.stats().text }
    }
}
