import ArgumentParser
import Foundation
import IPTRTPProxyCore

/// Options every function subcommand shares for its input and output.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print one JSON object: result, sdp, sdp_base64 (the exact bytes), session_ids, sdp_ip, switchboard, direction, error.")
    var json = false

    @Option(name: .customLong("content-type"),
            help: ArgumentHelp("Content-Type of the body on standard input (multipart bodies need their boundary).",
                               valueName: "type"))
    var contentType: String = "application/sdp"
}

/// Prints a function's result the way the CLI promises, and ends with the matching exit status.
enum FunctionOutput {
    struct JSONResult: Encodable {
        var result: Int
        /// The body as text; a byte that is not UTF-8 shows as U+FFFD.
        var sdp: String?
        /// The body's exact bytes, so that a body that is not UTF-8 round-trips.
        var sdp_base64: String?
        var session_ids: String?
        var sdp_ip: String
        var switchboard: String?
        var direction: Int?
        var error: String?
        var warnings: [String]

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(result, forKey: .result)
            try c.encode(sdp, forKey: .sdp)
            try c.encode(sdp_base64, forKey: .sdp_base64)
            try c.encode(session_ids, forKey: .session_ids)
            try c.encode(sdp_ip, forKey: .sdp_ip)
            try c.encode(switchboard, forKey: .switchboard)
            try c.encode(direction, forKey: .direction)
            if let error { try c.encode(error, forKey: .error) }
            if !warnings.isEmpty { try c.encode(warnings, forKey: .warnings) }
        }
        enum CodingKeys: String, CodingKey { case result, sdp, sdp_base64, session_ids, sdp_ip, switchboard, direction, error, warnings }
    }

    /// Prints and exits: status 0 for result 1, 1 for result -1.
    static func finish(_ result: FunctionResult, input: [UInt8]?, selects: SelectValues, json: Bool) throws -> Never {
        let body = result.body ?? input
        for w in result.warnings { FileHandle.standardError.write(Data("warning: \(w)\n".utf8)) }
        if json {
            let out = JSONResult(
                result: Int(result.scriptValue),
                sdp: body.map { String(decoding: $0, as: UTF8.self) },
                sdp_base64: body.map { Data($0).base64EncodedString() },
                session_ids: selects.sessionIDs, sdp_ip: selects.sdpIP,
                switchboard: selects.switchboard, direction: selects.direction,
                error: result.error, warnings: result.warnings)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(out) + Data("\n".utf8))
        } else {
            if let body { FileHandle.standardOutput.write(Data(body)) }
            var lines = ""
            if let e = result.error { lines += "error: \(e)\n" }
            lines += "result=\(result.scriptValue)\n"
            lines += "session_ids=\(selects.sessionIDs ?? "")\n"
            lines += "sdp_ip=\(selects.sdpIP)\n"
            lines += "switchboard=\(selects.switchboard ?? "")\n"
            lines += "direction=\(selects.direction.map(String.init) ?? "")\n"
            FileHandle.standardError.write(Data(lines.utf8))
        }
        throw ExitCode(result.succeeded ? 0 : 1)
    }

    /// Reads all of standard input.
    static func readBody() -> [UInt8] {
        [UInt8](FileHandle.standardInput.readDataToEndOfFile())
    }
}
