import ArgumentParser
import IPTRTPProxyCore

/// Runs one function the way every function subcommand does: opens the plane, calls `call` with
/// fresh selects, saves the `--state`, prints the result and exits with its status (`ExitStatus`):
/// 0 or 1 for the function's 1 or -1; a relay that cannot be reached before the function runs 69,
/// a bad file 78, a bad option value 64.
func runFunction(
    _ plane: PlaneOptions, json: Bool, input: [UInt8]?,
    _ call: (ScriptFunctions, inout SelectValues) -> FunctionResult
) throws -> Never {
    do {
        let (functions, save) = try plane.openFunctions()
        var selects = SelectValues()
        let result = call(functions, &selects)
        try save()
        try FunctionOutput.finish(result, input: input, selects: selects, json: json)
    } catch let e as CLIError {
        writeToStandardError("iptrtpproxy: \(e)\n")
        throw ExitCode(e.exitStatus.rawValue)
    }
}

/// Where the SIP message came from: the module passes Kamailio's `$si`; the CLI takes it as an
/// option, so that a relay learns the SDP side's media as it does behind the module.
struct SignalOptions: ParsableArguments {
    @Option(name: .customLong("source-ip"), help: ArgumentHelp(
        "The address the SIP message came from (Kamailio's $si). The relay learns the SDP side's media only from this host or the SDP's c= host.",
        valueName: "IP"))
    var sourceIP: String?

    /// The parsed address; nil when not given.
    var address: IPAddress? { sourceIP.flatMap { IPAddress($0) } }

    func validate() throws {
        if let sourceIP, IPAddress(sourceIP) == nil {
            throw ValidationError("--source-ip must be an IPv4 or IPv6 address, not '\(sourceIP)'")
        }
    }
}

struct AllocCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alloc",
        abstract: "iptrtpproxy_alloc: allocate sessions for the SDP's media and rewrite it.")

    @OptionGroup var plane: PlaneOptions
    @OptionGroup var output: OutputOptions
    @Option(help: "The switchboard to allocate on (as in the cfg file).") var switchboard: String
    @Option(help: "Bit 0: the SDP comes from gate A's side. Bit 1: ringing (use the ringing timeout).") var flags: Int
    @OptionGroup var signal: SignalOptions
    @Option(name: .customLong("call-id"), help: "The SIP Call-ID to name the sessions with in the relay's reports.") var callID: String?
    @Option(name: .customLong("from-tag"), help: "The From tag to go with --call-id.") var fromTag: String?

    func validate() throws {
        if let callID, !CallIdentity.isToken(callID) { throw ValidationError("--call-id must be 1-128 printable characters without spaces") }
        if let fromTag, callID == nil || !CallIdentity.isToken(fromTag) {
            throw ValidationError("--from-tag needs --call-id and must be 1-128 printable characters without spaces")
        }
    }

    func run() throws {
        let input = FunctionOutput.readBody()
        let call = callID.flatMap { CallIdentity(callID: $0, fromTag: fromTag) }
        try runFunction(plane, json: output.json, input: input) { functions, selects in
            functions.alloc(flags: ScriptFlags(flags), switchboard: switchboard, body: input,
                            contentType: output.contentType, signal: signal.address, call: call, selects: &selects)
        }
    }
}

struct UpdateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "iptrtpproxy_update: apply an answer or a new offer to existing sessions.")

    @OptionGroup var plane: PlaneOptions
    @OptionGroup var output: OutputOptions
    @Option(name: .customLong("session-ids"), help: "The session ids alloc printed, e.g. 'pub:0/1764,,1/1764'.")
    var sessionIDs: String
    @Option(help: "Bit 0: the SDP comes from gate A's side. Bit 1: ringing (use the ringing timeout).") var flags: Int
    @OptionGroup var signal: SignalOptions

    func run() throws {
        let input = FunctionOutput.readBody()
        try runFunction(plane, json: output.json, input: input) { functions, selects in
            functions.update(flags: ScriptFlags(flags), sessionIDs: sessionIDs, body: input,
                             contentType: output.contentType, signal: signal.address, selects: &selects)
        }
    }
}

struct AdjustTimeoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adjust-timeout",
        abstract: "iptrtpproxy_adjust_timeout: set the learning timeout of one side's streams.")

    @OptionGroup var plane: PlaneOptions
    @Flag(name: .long, help: "Print one JSON object.") var json = false
    @Option(name: .customLong("session-ids"), help: "The session ids, e.g. 'pub:0/1764'.") var sessionIDs: String
    @Option(help: "Bit 0: the side is gate A's. Bit 1: use the ringing timeout.") var flags: Int
    @OptionGroup var signal: SignalOptions

    func run() throws {
        try runFunction(plane, json: json, input: nil) { functions, selects in
            functions.adjustTimeout(flags: ScriptFlags(flags), sessionIDs: sessionIDs, signal: signal.address, selects: &selects)
        }
    }
}

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "iptrtpproxy_delete: delete the sessions of a session-id list.")

    @OptionGroup var plane: PlaneOptions
    @Flag(name: .long, help: "Print one JSON object.") var json = false
    @Option(name: .customLong("session-ids"), help: "The session ids, e.g. 'pub:0/1764,,1/1764'.") var sessionIDs: String

    func run() throws {
        try runFunction(plane, json: json, input: nil) { functions, selects in
            functions.delete(sessionIDs: sessionIDs, selects: &selects)
        }
    }
}

struct FindCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "find",
        abstract: "iptrtpproxy_find: find the switchboard that joins two gate addresses.")

    @OptionGroup var plane: PlaneOptions
    @Flag(name: .long, help: "Print one JSON object.") var json = false
    @Option(name: .customLong("gate-a"), help: "Address on the first side (a port is ignored).") var gateA: String
    @Option(name: .customLong("gate-b"), help: "Address on the second side (a port is ignored).") var gateB: String

    func run() throws {
        try runFunction(plane, json: json, input: nil) { functions, selects in
            functions.find(gateA: gateA, gateB: gateB, selects: &selects)
        }
    }
}
