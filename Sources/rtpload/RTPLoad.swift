import ArgumentParser
import Foundation
import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX

/// rtpload: the project's RTP load generator and sink. See BENCHMARKS.md.
@main
struct RTPLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rtpload",
        abstract: "Send paced or flat-out RTP through a relay and measure loss, one-way latency and relay CPU.",
        discussion: """
            Each line of the streams file is one direction of RTP: SOURCE DESTINATION SINK (a.b.c.d:port each). \
            rtpload binds every SOURCE and SINK, sends 172-byte RTP packets (12-byte header, 160-byte payload \
            carrying the send time) from SOURCE to DESTINATION (a relay gate, or the sink itself for a baseline) \
            and counts them at SINK, by SSRC.

            One JSON line per run goes to standard output: sent, received, loss_pct, offered_pps, forwarded_pps, \
            p50_us, p99_us, max_us, relay_cpu_us_per_pkt (with --relay-pid), and checks (misdelivered, foreign, \
            send_errors) that should be 0.

            Example: a caller at 127.0.0.21:40000 sending through a relay gate 127.0.0.31:42000 to a callee at \
            127.0.0.22:40000 that answers through gate 127.0.0.32:42000:

              127.0.0.21:40000 127.0.0.31:42000 127.0.0.22:40000
              127.0.0.22:40000 127.0.0.32:42000 127.0.0.21:40000

            Exit status: 0 after a run, 64 for a bad command line, 1 when a run fails (a socket \
            that cannot be bound, a thread that cannot start).
            """,
        version: IPTRTPProxyVersion.string)

    @Option(name: .long, help: "Streams file (SOURCE DESTINATION SINK per line), '-' for standard input.")
    var streams: String

    @Option(name: .long, help: "Packets per second on every stream (paced). Omit with --flat-out.")
    var rate: Double?

    @Flag(name: .long, help: "Send as fast as possible, round-robin over the streams.")
    var flatOut = false

    @Option(name: .long, help: "Measured seconds.")
    var duration: Double = 5

    @Option(name: .long, help: "Seconds sent before the measured window (not counted; lets a relay learn).")
    var warmup: Double = 0.5

    @Option(name: .long, help: "Seconds to keep receiving after the last packet was sent.")
    var drain: Double = 0.5

    @Option(name: .long, help: "Relay process whose CPU time is measured over the window (repeatable).")
    var relayPid: [Int32] = []

    @Option(name: .long, help: "Free text copied into the report.")
    var label: String = ""

    @Option(name: .long, help: "RTP payload type: 0 (PCMU) or 8 (PCMA).")
    var payloadType: UInt8 = 0

    @Option(name: .long, help: "Most packets per sendmmsg.")
    var batch: Int = 32

    @Option(name: .long, help: "Pacing tick in microseconds: packets due within one tick leave together.")
    var tickUs: UInt64 = 200

    @Option(name: .long, help: "Where arrival is timed: kernel (SO_TIMESTAMPNS, when the packet reached the sink socket) or user (when the sink thread got it).")
    var arrivalClock: ArrivalClock = .kernel

    @Option(name: .long, help: "Write the worst latency per 10 ms of send time to this CSV file (finds periodic stalls).")
    var timeline: String?

    @Option(name: .long, help: "Socket buffer size in bytes (each way, every socket).")
    var bufferBytes: Int32 = 4 << 20

    func validate() throws {
        if flatOut == (rate != nil) { throw ValidationError("give either --rate PPS or --flat-out") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be positive") }
        if payloadType != 0 && payloadType != 8 { throw ValidationError("--payload-type is 0 or 8") }
        if !(1...1024).contains(batch) { throw ValidationError("--batch is 1...1024") }
        if !(duration > 0) { throw ValidationError("--duration must be positive") }
    }

    func run() throws {
        let text = streams == "-"
            ? String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
            : try String(contentsOfFile: streams, encoding: .utf8)
        let plan = try StreamPlan.parse(text)
        raiseOpenFileLimit(to: plan.localAddresses.count + 64)
        let sockets = try plan.localAddresses.map { try UDPSocket(binding: $0, bufferBytes: bufferBytes) }
        defer { sockets.forEach { $0.close() } }

        let start = MonotonicClock.nanoseconds() + 50_000_000
        let measureFrom = start + Int64(warmup * 1e9)
        let end = measureFrom + Int64(duration * 1e9)

        // The sender and the sink each live on their own thread and hand their figures back.
        let stopSink = StopFlag()
        let sinkOutcome = ThreadOutcome<SinkReport>()
        let senderOutcome = ThreadOutcome<SenderReport>()
        let arrivalClock = self.arrivalClock, timelineSlices = timeline.map { _ in Int(duration * 100) + 100 }
        let sinkThread = try PosixThread(name: "rtpload-sink") {
            let sink = StreamSink(plan: plan, sockets: sockets, arrivalClock: arrivalClock, stop: stopSink)
            if let timelineSlices { sink.timeline = LatencyTimeline(sliceNanoseconds: 10_000_000, maxSlices: timelineSlices) }
            sink.run()
            sinkOutcome.set(sink.report)
        }
        let rate = self.rate, tick = Int64(tickUs * 1000), payloadType = self.payloadType, batch = self.batch
        let senderThread = try PosixThread(name: "rtpload-send") {
            let sender = StreamSender(plan: plan, sockets: sockets, payloadType: payloadType, batch: batch)
            if let rate {
                sender.runPaced(ratePerStream: rate, start: start, measureFrom: measureFrom, end: end, tickNanoseconds: tick)
            } else {
                MonotonicClock.sleep(until: start)
                sender.runFlatOut(measureFrom: measureFrom, end: end)
            }
            senderOutcome.set(sender.report)
        }

        MonotonicClock.sleep(until: measureFrom)
        let cpuBefore = relayPid.isEmpty ? nil : ProcessCPU.nanoseconds(of: relayPid)
        senderThread.join()
        MonotonicClock.sleep(until: MonotonicClock.nanoseconds() + Int64(drain * 1e9))
        let cpuAfter = relayPid.isEmpty ? nil : ProcessCPU.nanoseconds(of: relayPid)
        stopSink.set()
        sinkThread.join()
        guard let sender = senderOutcome.result, let sink = sinkOutcome.result else {
            throw RunFailure(description: "the sender or the sink thread ended without a report")
        }

        var cpu: UInt64?
        if let a = cpuBefore, let b = cpuAfter, b >= a { cpu = b - a }
        let report = RunReport(
            label: label, mode: flatOut ? "flat-out" : "paced", arrivalClock: arrivalClock.rawValue,
            streams: plan.streams.count, ratePerStream: rate,
            seconds: duration, sent: sender.sent.reduce(0, +), received: sink.received.reduce(0, +),
            sendErrors: sender.sendErrors, misdelivered: sink.misdelivered, foreign: sink.foreign,
            streamsWithLoss: zip(sender.sent, sink.received).filter { $0.1 < $0.0 }.count,
            p50: sink.latency.percentileMicroseconds(0.50), p99: sink.latency.percentileMicroseconds(0.99),
            max: sink.latency.count > 0 ? Double(sink.latency.maxNanoseconds) / 1000 : nil,
            relayCPUNanoseconds: cpu)
        if let timeline, let csv = sink.timeline?.csv {
            try csv.write(toFile: timeline, atomically: true, encoding: .utf8)
        }
        print(report.json)
    }

    private func raiseOpenFileLimit(to wanted: Int) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < rlim_t(wanted) else { return }
        limit.rlim_cur = min(limit.rlim_max, rlim_t(wanted))
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}

extension ArrivalClock: ExpressibleByArgument {}

/// A run that could not finish: exit status 1 (`ExitStatus.failure`), not the usage status of a
/// `ValidationError`.
struct RunFailure: Error, CustomStringConvertible {
    var description: String
}
