// ipt-nft-probe: drives the kernel offload (KernelOffload) from the shell, one operation per run,
// for the namespace tests and the benchmark. The table outlives the process until `stop`.
//
//   ipt-nft-probe start                      create table netdev iptrtpproxy on every interface but lo (replacing a stale one)
//   ipt-nft-probe stop                       delete it
//   ipt-nft-probe install  STREAM            STREAM = relayA peerA relayB peerB (ip:port each)
//   ipt-nft-probe repoint  STREAM STREAM     old, then new, in one transaction
//   ipt-nft-probe remove   STREAM...         batched
//   ipt-nft-probe counters                   "relay packets bytes", one line per relay endpoint
//   ipt-nft-probe fill N RELAY PEER          N extra streams (relay ports from RELAY's port up, peers from PEER's)
// Options before the command: --table NAME.
import Glibc
import IPTRTPProxyCore
import KernelOffload

/// Says what went wrong on standard error and exits with status 1. Written to the file descriptor:
/// C's `stderr` is a global `var` that Swift 6 cannot prove safe to share.
func fail(_ message: String) -> Never {
    var bytes = Array("ipt-nft-probe: \(message)\n".utf8)[...]
    while !bytes.isEmpty {
        let written = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
        if written < 0 && errno == EINTR { continue }
        if written <= 0 { break }
        bytes = bytes.dropFirst(written)
    }
    exit(1)
}

func endpoint(_ text: String) -> Endpoint {
    guard let colon = text.lastIndex(of: ":"), let address = IPAddress(String(text[..<colon])),
          let port = UInt16(text[text.index(after: colon)...])
    else { fail("'\(text)' is not ip:port") }
    return Endpoint(address: address, port: port)
}

func streams(_ words: ArraySlice<String>) -> [KernelStream] {
    guard !words.isEmpty, words.count % 4 == 0 else { fail("a stream is four endpoints: relayA peerA relayB peerB") }
    let w = Array(words)
    return stride(from: 0, to: w.count, by: 4).map { i in
        KernelStream(a: KernelLeg(relay: endpoint(w[i]), peer: endpoint(w[i + 1])),
                     b: KernelLeg(relay: endpoint(w[i + 2]), peer: endpoint(w[i + 3])))
    }
}

var args = Array(CommandLine.arguments.dropFirst())
var table = NFTablesOffload.defaultTable
if args.first == "--table", args.count >= 2 {
    table = args[1]
    args.removeFirst(2)
}
guard let command = args.first else { fail("usage: ipt-nft-probe [--table NAME] start|stop|install|repoint|remove|counters|fill ...") }
let rest = args.dropFirst()

do {
    let offload = try NFTablesOffload(table: table)
    switch command {
    case "start":
        try offload.start()
    case "stop":
        try offload.stop()
    case "install":
        for s in streams(rest) { try offload.install(s) }
    case "repoint":
        let both = streams(rest)
        guard both.count == 2 else { fail("repoint takes the old stream and the new one") }
        try offload.repoint(both[0], to: both[1])
    case "remove":
        try offload.remove(streams(rest))
    case "counters":
        for (relay, c) in try offload.counters().sorted(by: { $0.key.description < $1.key.description }) {
            print("\(relay) \(c.packets) \(c.bytes)")
        }
    case "fill":
        guard rest.count == 3, let n = Int(rest[rest.startIndex]) else { fail("fill N RELAY PEER") }
        let relay = endpoint(rest[rest.startIndex + 1]), peer = endpoint(rest[rest.startIndex + 2])
        for i in 0..<n {
            let p = UInt16(truncatingIfNeeded: Int(relay.port) + 4 * i), q = UInt16(truncatingIfNeeded: Int(peer.port) + 2 * i)
            try offload.install(KernelStream(
                a: KernelLeg(relay: Endpoint(address: relay.address, port: p), peer: Endpoint(address: peer.address, port: q)),
                b: KernelLeg(relay: Endpoint(address: relay.address, port: p &+ 2), peer: Endpoint(address: peer.address, port: q &+ 1))))
        }
    default:
        fail("unknown command '\(command)'")
    }
} catch {
    fail("\(error)")
}
