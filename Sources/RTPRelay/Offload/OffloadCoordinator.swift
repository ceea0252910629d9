import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import Logging
import Synchronization

/// Hands fixed streams to the kernel and takes them back: the engine's one link to its
/// `StreamOffload`. It decides, per stream, from the legs of its session: install when both
/// clients are latched and fixed, update when a latch moved, remove when a stream stops being
/// fixed, poll the kernel counters otherwise. Calls into the offload are serialized by `calls`.
///
/// Lock order: the caller may hold the book lock; shard locks are taken and released here
/// before `calls` is taken, so the offload (netlink, milliseconds) never runs under a shard lock
/// that a forwarding thread waits for.
final class OffloadCoordinator: Sendable {
    private let offload: any StreamOffload
    /// One call into the offload at a time; also guards the tallies for `stats`.
    private let calls = Mutex(Tallies())

    /// What the offload did with the streams handed to it, for `stats`.
    struct Tallies {
        var installs: UInt64 = 0
        var refusals: UInt64 = 0
        var tableFull: UInt64 = 0
        /// One "table full" line per 10 s: with a full table every new call would log one.
        var fullLog = RateLimitedLog(intervalMilliseconds: 10_000)
    }

    init(_ offload: any StreamOffload) {
        self.offload = offload
    }

    /// The offload's name for `info`.
    var name: String { offload.name }

    /// Installs and refusals since start, for `stats`.
    var statistics: OffloadStatistics {
        calls.withLock { t in
            OffloadStatistics(path: offload.name, installs: t.installs, refusals: t.refusals, tableFull: t.tableFull)
        }
    }

    /// Takes streams out of the kernel (a session freed, a stream re-pointed).
    func remove(_ keys: [OffloadedStream.Key]) {
        guard !keys.isEmpty else { return }
        calls.withLock { _ in for key in keys { offload.remove(key) } }
    }

    /// Both clients of stream `j` of local session `l` are latched and fixed (shard lock held).
    /// A side whose client runs ICE against the relay (`ice=force`) never is: its consent checks
    /// (RFC 7675, every few seconds from the latched source) must reach the relay's agent, which
    /// a kernel rule would forward to the other client instead.
    static func isFixed(_ shard: borrowing SessionShard, _ l: Int, stream j: Int) -> Bool {
        let a = shard.leg(l, .a, j).pointee, b = shard.leg(l, .b, j).pointee
        return a.latched.isSet && b.latched.isSet && !a.alwaysLearn && !b.alwaysLearn && !a.held && !b.held
            && !a.answersICE && !b.answersICE
    }

    private enum Action { case install, update, remove, poll }

    private struct Work {
        var shard: Int
        var local: Int
        var stream: OffloadedStream
        var action: Action
    }

    /// One round (housekeeping): reads the kernel counters of offloaded streams, installs streams
    /// that became fixed, follows moved latches, takes back streams that are no longer fixed.
    func refresh(shards: [LockedShard], layout: SessionLayout, switchboards: SwitchboardSet, now: Int64, logger: Logger) {
        var work: [Work] = []
        for shard in shards {
            shard.withLock { sh in
                for l in 0..<sh.count where sh.sessions[l].inUse {
                    let s = sh.sessions[l].switchboard
                    let sw = switchboards.all[s]
                    let id = layout.global(shard: shard.index, local: l) - layout.bases[s]
                    for j in 0..<2 {
                        let a = sh.leg(l, .a, j).pointee, b = sh.leg(l, .b, j).pointee
                        let fixed = OffloadCoordinator.isFixed(sh, l, stream: j)
                        let action: Action
                        if a.offloaded {
                            if !fixed { action = .remove }
                            else if a.offloadedPeer != a.latched || b.offloadedPeer != b.latched { action = .update }
                            else { action = .poll }
                        } else if fixed {
                            if a.offloadRefused && a.offloadedPeer == a.latched && b.offloadedPeer == b.latched { continue }
                            action = .install
                        } else {
                            continue
                        }
                        let port = { (gate: Gate) in
                            Endpoint(address: gate.address, port: UInt16(truncatingIfNeeded: Int(gate.rtpPort(session: id)) + j))
                        }
                        let stream = OffloadedStream(
                            key: OffloadedStream.Key(
                                switchboard: sw.name, session: SessionHandle(id: id, created: sh.sessions[l].created), stream: j),
                            gates: [port(sw.gateA), port(sw.gateB)],
                            clients: [a.latched.endpoint ?? Endpoint(address: .v4(0), port: 0),
                                      b.latched.endpoint ?? Endpoint(address: .v4(0), port: 0)])
                        work.append(Work(shard: shard.index, local: l, stream: stream, action: action))
                    }
                }
            }
        }
        guard !work.isEmpty else { return }
        var installed: [(Work, Bool)] = []
        var polled: [(Work, OffloadCounters)] = []
        calls.withLock { tallies in
            for item in work {
                switch item.action {
                case .install, .update:
                    do {
                        if item.action == .install { try offload.install(item.stream) } else { try offload.update(item.stream) }
                        installed.append((item, true))
                        tallies.installs += 1
                    } catch {
                        let what = "kernel offload of \(item.stream.key.switchboard):\(item.stream.key.session) stream \(item.stream.key.stream): \(error)"
                        if error is OffloadTableFull {
                            tallies.tableFull += 1
                            tallies.fullLog.warning(.kernelTableFull, what, logger: logger, now: now / 1_000_000)
                        } else {
                            tallies.refusals += 1
                            logger.warning("\(what)")
                        }
                        if item.action == .update { offload.remove(item.stream.key) }
                        installed.append((item, false))
                    }
                case .remove:
                    offload.remove(item.stream.key)
                    installed.append((item, false))
                case .poll:
                    if let c = offload.counters(item.stream.key) { polled.append((item, c)) }
                }
            }
        }
        for (item, on) in installed {
            shards[item.shard].withLock { sh in
                for side in GateSide.allCases {
                    let leg = sh.leg(item.local, side, item.stream.key.stream)
                    leg.pointee.offloaded = on
                    // Remember the clients also on refusal, so that the stream is retried only
                    // when a latch moves.
                    leg.pointee.offloadRefused = !on && item.action != .remove
                    leg.pointee.offloadedPeer = leg.pointee.offloadRefused || on
                        ? PeerAddress(item.stream.clients[side.rawValue]) : .none
                    leg.pointee.offloadPacketsSeen = 0
                    leg.pointee.offloadBytesSeen = 0
                }
            }
        }
        for (item, counters) in polled {
            shards[item.shard].withLock { sh in
                for side in GateSide.allCases {
                    let leg = sh.leg(item.local, side, item.stream.key.stream)
                    let p = counters.packets[side.rawValue], b = counters.bytes[side.rawValue]
                    if p > leg.pointee.offloadPacketsSeen {
                        leg.pointee.packets &+= p - leg.pointee.offloadPacketsSeen
                        leg.pointee.lastPacket = now
                    }
                    if b > leg.pointee.offloadBytesSeen { leg.pointee.bytes &+= b - leg.pointee.offloadBytesSeen }
                    leg.pointee.offloadPacketsSeen = p
                    leg.pointee.offloadBytesSeen = b
                }
            }
        }
    }
}
