import IPTRTPProxyCore

/// Where a relay keeps its sessions so that they outlive it: the local journal (same host,
/// crash-safe), or a shared store such as Redis (another host takes over; target RelayRedisStore).
/// The engine writes every change as `JournalRecord`s from its control path and housekeeping,
/// never from a forwarding thread; a store holds its own lock, so a slow store never blocks packets.
package protocol SessionStore: Sendable {
    /// Where it is, for logs and `info`.
    var location: String { get }
    /// Makes this relay the store's only writer, or throws why it cannot be (the journal: another
    /// relay has the same file). Called at start, before `load`.
    func claim() throws
    /// Every record kept, and how many damaged ones were skipped.
    func load() throws -> (records: [JournalRecord], skipped: Int)
    /// Adds records (a session allocated, updated, latched, freed): durable when this returns
    /// (journal), or queued for a writer off the control path (Redis).
    func append(_ records: [JournalRecord]) throws
    /// Replaces everything kept with `records` (the live state).
    func rewrite(_ records: [JournalRecord]) throws
    /// Records appended since the last rewrite (the engine rewrites when this grows large).
    var appendedSinceRewrite: Int { get }
    /// Whether the store takes writes now, and why not: `stats` shows it. A journal is always up.
    var health: SessionStoreHealth { get }
    /// Stops what the store runs (a writer thread) after a last flush; the engine calls it once
    /// it has stopped.
    func close()
}

extension SessionStore {
    /// A shared store (Redis) has many relays by design: one takes over another's sessions.
    package func claim() throws {}
    package var health: SessionStoreHealth { SessionStoreHealth(location: location, up: true, detail: nil) }
    package func close() {}
}
