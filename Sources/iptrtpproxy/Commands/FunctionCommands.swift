import ArgumentParser
import IPTRTPProxyCore

/// Runs `body` and turns configuration errors into exit status 2.
func runFunction(_ body: () throws -> Never) throws -> Never {
    do {
        try body()
    } catch let e as CLIError {
        writeToStandardError("iptrtpproxy: \(e)\n")
        // A relay that cannot be reached makes the function false, as in the module.
        if case .relay = e { throw ExitCode(1) }
        throw ExitCode(2)
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

    func run() throws {
        try runFunction {
            let (functions, save) = try plane.openFunctions()
            let input = FunctionOutput.readBody()
            var selects = SelectValues()
            let result = functions.alloc(flags: ScriptFlags(flags), switchboard: switchboard, body: input,
                                         contentType: output.contentType, selects: &selects)
            try save()
            try FunctionOutput.finish(result, input: input, selects: selects, json: output.json)
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

    func run() throws {
        try runFunction {
            let (functions, save) = try plane.openFunctions()
            let input = FunctionOutput.readBody()
            var selects = SelectValues()
            let result = functions.update(flags: ScriptFlags(flags), sessionIDs: sessionIDs, body: input,
                                          contentType: output.contentType, selects: &selects)
            try save()
            try FunctionOutput.finish(result, input: input, selects: selects, json: output.json)
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

    func run() throws {
        try runFunction {
            let (functions, save) = try plane.openFunctions()
            var selects = SelectValues()
            let result = functions.adjustTimeout(flags: ScriptFlags(flags), sessionIDs: sessionIDs, selects: &selects)
            try save()
            try FunctionOutput.finish(result, input: nil, selects: selects, json: json)
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
        try runFunction {
            let (functions, save) = try plane.openFunctions()
            var selects = SelectValues()
            let result = functions.delete(sessionIDs: sessionIDs, selects: &selects)
            try save()
            try FunctionOutput.finish(result, input: nil, selects: selects, json: json)
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
        try runFunction {
            let (functions, _) = try plane.openFunctions()
            var selects = SelectValues()
            let result = functions.find(gateA: gateA, gateB: gateB, selects: &selects)
            try FunctionOutput.finish(result, input: nil, selects: selects, json: json)
        }
    }
}
