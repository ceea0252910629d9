import IPTRTPProxyCore

/// Where each session of each switchboard lives: its global index and its place in a shard.
///
/// Session *g* (global index = the switchboard's base + session id) belongs to shard `g % shards`
/// at local index `g / shards`; each shard is served by one forwarding thread. Pure arithmetic,
/// fixed when the engine is created.
struct SessionLayout: Sendable {
    /// First global index of each switchboard, in `SwitchboardSet.all` order.
    let bases: [Int]
    /// Sessions of all switchboards together.
    let sessionCount: Int
    /// Shards (one forwarding thread each).
    let shardCount: Int

    init(switchboards: SwitchboardSet, shards: Int) {
        var bases: [Int] = []
        var total = 0
        for sw in switchboards.all {
            bases.append(total)
            total += sw.maxSessions
        }
        self.bases = bases
        sessionCount = total
        shardCount = max(1, shards)
    }

    @inline(__always) func shard(of g: Int) -> Int { g % shardCount }
    @inline(__always) func local(of g: Int) -> Int { g / shardCount }
    @inline(__always) func global(shard: Int, local: Int) -> Int { local * shardCount + shard }

    /// Sessions held by shard `w`.
    func sessionCount(ofShard w: Int) -> Int {
        sessionCount > w ? (sessionCount - w + shardCount - 1) / shardCount : 0
    }

    /// The switchboard index of global session `g`.
    func switchboard(of g: Int) -> Int {
        var s = 0
        while s + 1 < bases.count && bases[s + 1] <= g { s += 1 }
        return s
    }

    /// The global index of session `id` of switchboard `s`.
    @inline(__always) func global(switchboard s: Int, id: Int) -> Int { bases[s] + id }
}
