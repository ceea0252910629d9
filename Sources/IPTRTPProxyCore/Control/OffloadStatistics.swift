/// The kernel offload's part of `stats`: which path forwards in the kernel and what it did with
/// the streams the relay handed it since start.
public struct OffloadStatistics: Hashable, Sendable {
    /// The path in use, as `info` names it (`xdp (generic: eth0)`, `nftables`).
    public var path: String
    /// Streams (one RTP or RTCP stream of a session, both directions) put in the kernel.
    public var installs: UInt64
    /// Streams the kernel refused for any other reason; they stay in user space.
    public var refusals: UInt64
    /// Streams refused because the kernel's table was full (`--xdp-streams`); they stay in user space.
    public var tableFull: UInt64

    /// Creates the entry.
    public init(path: String, installs: UInt64, refusals: UInt64, tableFull: UInt64) {
        self.path = path
        self.installs = installs
        self.refusals = refusals
        self.tableFull = tableFull
    }

    /// Writes the JSON object's members.
    func write(to w: inout JSONWriter) {
        w.object { o in
            o.member("path", path)
            o.member("installs", installs)
            o.member("refusals", refusals)
            o.member("table-full", tableFull)
        }
    }

    /// Reads the JSON object.
    init(json value: JSONValue) throws {
        let o = JSONReader(value, "offload")
        self.init(path: try o.string("path"), installs: try o.uint64("installs"), refusals: try o.uint64("refusals"),
                  tableFull: try o.uint64("table-full"))
    }
}
