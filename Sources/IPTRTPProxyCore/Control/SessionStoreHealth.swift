/// Whether a relay's session store (journal, Redis) takes its writes, as `stats` reports it.
public struct SessionStoreHealth: Hashable, Sendable {
    /// Where the store is: a journal's path, `redis://HOST:PORT/DB`.
    public var location: String
    /// True while writes reach it. A relay whose store is down keeps allocating and forwarding;
    /// its sessions are written back when the store returns.
    public var up: Bool
    /// Why it is down (or what it is doing), one line; nil when there is nothing to say.
    public var detail: String?

    /// Creates the health.
    public init(location: String, up: Bool, detail: String? = nil) {
        self.location = location
        self.up = up
        self.detail = detail
    }
}
