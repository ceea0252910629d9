/// One run's figures, printed as a single JSON line (fixed key order, so lines diff well).
struct RunReport {
    var label: String
    var mode: String
    var arrivalClock: String
    var streams: Int
    var ratePerStream: Double?
    var seconds: Double
    var sent: UInt64
    var received: UInt64
    var sendErrors: UInt64
    var misdelivered: UInt64
    var foreign: UInt64
    var streamsWithLoss: Int
    var p50: Double?
    var p99: Double?
    var max: Double?
    var relayCPUNanoseconds: UInt64?

    var lossPercent: Double { sent == 0 ? 0 : Double(sent &- min(received, sent)) * 100 / Double(sent) }

    var json: String {
        var fields: [(String, String)] = [
            ("label", quoted(label)), ("mode", quoted(mode)), ("arrival_clock", quoted(arrivalClock)), ("streams", "\(streams)"),
            ("rate_pps_per_stream", number(ratePerStream)), ("seconds", number(seconds)),
            ("sent", "\(sent)"), ("received", "\(received)"), ("loss_pct", number(lossPercent, digits: 3)),
            ("offered_pps", number(Double(sent) / seconds, digits: 0)),
            ("forwarded_pps", number(Double(received) / seconds, digits: 0)),
            ("p50_us", number(p50, digits: 1)), ("p99_us", number(p99, digits: 1)), ("max_us", number(max, digits: 1)),
            ("streams_with_loss", "\(streamsWithLoss)"), ("misdelivered", "\(misdelivered)"),
            ("foreign", "\(foreign)"), ("send_errors", "\(sendErrors)"),
        ]
        if let cpu = relayCPUNanoseconds {
            fields.append(("relay_cpu_ms", number(Double(cpu) / 1e6, digits: 1)))
            fields.append(("relay_cpu_us_per_pkt", received == 0 ? "null" : number(Double(cpu) / 1000 / Double(received), digits: 2)))
        } else {
            fields.append(("relay_cpu_ms", "null"))
            fields.append(("relay_cpu_us_per_pkt", "null"))
        }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    private func quoted(_ s: String) -> String {
        "\"" + s.replacingAll("\\", "\\\\").replacingAll("\"", "\\\"") + "\""
    }

    private func number(_ v: Double?, digits: Int = 3) -> String {
        guard let v, v.isFinite else { return "null" }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = (v * scale).rounded() / scale
        return digits == 0 ? "\(Int64(r))" : "\(r)"
    }
}

private extension String {
    func replacingAll(_ a: Character, _ b: String) -> String {
        var out = ""
        for c in self { if c == a { out += b } else { out.append(c) } }
        return out
    }
}
