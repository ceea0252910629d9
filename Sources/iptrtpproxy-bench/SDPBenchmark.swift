import Glibc
import IPTRTPProxyCore

/// `iptrtpproxy-bench`: how long the SDP path of one script call takes, without the relay.
/// Prints a table: nanoseconds per offer for parse + rewrite (1-media and 4-media SDP) and for a
/// whole `alloc` + `delete` through the in-process plane. Each figure is the median of 7 rounds.
@main
struct SDPBenchmark {
    static let oneMedia = sdp(media: 1)
    static let fourMedia = sdp(media: 4)

    static func sdp(media: Int) -> [UInt8] {
        var text = "v=0\r\no=alice 2890844526 2890844526 IN IP4 192.0.2.10\r\ns=call\r\nc=IN IP4 192.0.2.10\r\nt=0 0\r\n"
        for i in 0..<media {
            text += "m=\(i % 2 == 0 ? "audio" : "video") \(49170 + 2 * i) RTP/AVP 0 8 101\r\n"
            text += "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=ptime:20\r\na=sendrecv\r\n"
        }
        return Array(text.utf8)
    }

    /// Runs `body` `iterations` times per round and returns the median nanoseconds per iteration.
    static func measure(iterations: Int, _ body: () -> Int) -> Double {
        var rounds: [Double] = []
        var sink = 0
        for _ in 0..<7 {
            let clock = ContinuousClock()
            let start = clock.now
            for _ in 0..<iterations { sink &+= body() }
            let elapsed = clock.now - start
            let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
            rounds.append(ns / Double(iterations))
        }
        if sink == 42 { print("") }  // keeps the work observable to the optimizer
        return rounds.sorted()[rounds.count / 2]
    }

    static let allocRequest = Array("iptrtp/2 p1234-17 alloc pub a.always-learn=0 a.signal=192.0.2.10 a.rtp=192.0.2.10:4000 a.rtp-learning=90 a.rtcp=192.0.2.10:4001 a.rtcp-learning=90 call-id=a84b4c76e66710@pc33.example.com from-tag=1928301774".utf8)
    static let updateRequest = Array("iptrtp/2 p1234-18 update pub 7/1700000000 b.always-learn=0 b.signal=203.0.113.9 b.rtp=198.51.100.5:5000 b.rtcp=198.51.100.5:5001".utf8)

    /// Decodes a control request line as the relay does for every request it reads.
    static func decode(_ line: [UInt8]) -> Int {
        guard let r = try? ControlProtocol.decodeRequest(line) else { return 0 }
        return r.id.utf8.count
    }

    static func parseAndRewrite(_ bytes: [UInt8]) -> Int {
        guard let sdp = try? SDPParser.parse(bytes) else { return 0 }
        let target = MediaTarget(address: .v4(0xCB00_7101), rtpPort: 40000)
        return SDPRewriter.rewrite(sdp, targets: sdp.media.map { $0.isActive ? target : nil }).bytes.count
    }

    /// `--version` and `--help` answer and end; any other argument is a usage error (64), as in
    /// the other binaries (`ExitStatus`). The benchmark itself takes no arguments.
    static func answerArguments() {
        let arguments = CommandLine.arguments.dropFirst()
        guard let first = arguments.first else { return }
        switch first {
        case "control":
            ControlBenchmark.main(arguments: Array(arguments.dropFirst()))
        case "--version" where arguments.count == 1:
            print(IPTRTPProxyVersion.string)
            exit(ExitStatus.success.rawValue)
        case "-h", "--help":
            print("USAGE: iptrtpproxy-bench [control OPTIONS]\n\nPrints nanoseconds per offer for SDP parse + rewrite and alloc + delete (median of 7 rounds).\n`control`: control-plane throughput of a running relay (iptrtpproxy-bench control --help).\n\nOPTIONS:\n  --version  Show the version.\n  -h, --help Show help information.")
            exit(ExitStatus.success.rawValue)
        default:
            let message = Array("Error: unexpected argument '\(first)'\nUsage: iptrtpproxy-bench [--version]\n".utf8)
            _ = message.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            exit(ExitStatus.usage.rawValue)
        }
    }

    static func main() throws {
        answerArguments()
        let cfg = "[switchboard:pub]\naddr-a = 10.0.0.1\naddr-b = 203.0.113.1\nport-a = 30000\nmax-sess = 4000\nresurrection-timeout = 0\n"
        let set = try SwitchboardConfigParser.parse(cfg, fileName: "bench")
        let plane = InProcessMediaPlane(switchboards: set, clock: { 1 })
        let functions = ScriptFunctions(switchboards: set, plane: plane)

        func allocDelete(_ body: [UInt8]) -> Int {
            var selects = SelectValues()
            let r = functions.alloc(flags: ScriptFlags(1), switchboard: "pub", body: body, contentType: "application/sdp", selects: &selects)
            _ = functions.delete(sessionIDs: selects.sessionIDs ?? "pub", selects: &selects)
            return r.body?.count ?? 0
        }

        let rows: [(String, Int, Double)] = [
            ("parse + rewrite, 1 media", oneMedia.count, measure(iterations: 20_000) { parseAndRewrite(oneMedia) }),
            ("parse + rewrite, 4 media", fourMedia.count, measure(iterations: 10_000) { parseAndRewrite(fourMedia) }),
            ("alloc + delete, 1 media (in-process plane)", oneMedia.count, measure(iterations: 10_000) { allocDelete(oneMedia) }),
            ("alloc + delete, 4 media (in-process plane)", fourMedia.count, measure(iterations: 5_000) { allocDelete(fourMedia) }),
            ("decode a control alloc request", allocRequest.count, measure(iterations: 20_000) { decode(allocRequest) }),
            ("decode a control update request", updateRequest.count, measure(iterations: 20_000) { decode(updateRequest) }),
        ]
        print("SDP path and control request decoding (median of 7 rounds)")
        print("| operation | SDP bytes | ns per offer | offers per second |")
        print("|---|---:|---:|---:|")
        for (name, size, ns) in rows {
            print("| \(name) | \(size) | \(Int(ns.rounded())) | \(Int((1e9 / ns).rounded())) |")
        }
    }
}
