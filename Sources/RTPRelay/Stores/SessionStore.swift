/// Where a relay keeps its sessions so that they outlive it: the local journal (same host,
/// crash-safe) today, a shared store (another host takes over) next. The engine writes every
/// change as `JournalRecord`s from its control path and housekeeping, never from a forwarding
/// thread; a store holds its own lock, so a slow store never blocks packets.
protocol SessionStore: Sendable {
    /// Where it is, for logs and `info`.
    var location: String { get }
    /// Every record kept, and how many damaged ones were skipped.
    func load() throws -> (records: [JournalRecord], skipped: Int)
    /// Adds records (a session allocated, updated, latched, freed), durable when this returns.
    func append(_ records: [JournalRecord]) throws
    /// Replaces everything kept with `records` (the live state).
    func rewrite(_ records: [JournalRecord]) throws
    /// Records appended since the last rewrite (the engine rewrites when this grows large).
    var appendedSinceRewrite: Int { get }
}
