import ArgumentParser
import Foundation
import IPTRTPProxyCore

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
                Keep the sessions in this file between runs, so that a later update, \
                adjust-timeout or delete finds what alloc made. Without it each run starts \
                with no sessions.
                """, valueName: "file"))
    var state: String?

    /// Reads the cfg file and applies the modparams; exits with status 2 on error.
    func loadSwitchboards() throws -> SwitchboardSet {
        let text: String
        do {
            text = try String(contentsOfFile: config, encoding: .utf8)
        } catch {
            throw CLIError.configuration("cannot read \(config): \(error.localizedDescription)")
        }
        do {
            var applier = SwitchboardParamApplier(try SwitchboardConfigParser.parse(text, fileName: config))
            for p in switchboardParams { try applier.apply(p) }
            return applier.switchboards
        } catch let e as ConfigError {
            throw CLIError.configuration(e.description)
        }
    }

    /// Builds the functions over an in-process plane, restored from `--state` when given.
    func openFunctions() throws -> (ScriptFunctions, save: () throws -> Void) {
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

/// Errors that end the tool with exit status 2.
enum CLIError: Error, CustomStringConvertible {
    case configuration(String)
    case usage(String)

    var description: String {
        switch self {
        case .configuration(let m): return "configuration: \(m)"
        case .usage(let m): return "usage: \(m)"
        }
    }
}
