import IPTRTPProxyClient
import IPTRTPProxyCore

/// A media host's relay client that remembers when the host itself failed during one script
/// function (refused, reset, timed out, answered nonsense), so that the pool marks it down and
/// the function tries the next host. Once it failed, every further request of the same function
/// fails at once: a multi-media alloc that hit a hung host does not wait again to undo itself
/// there (what it allocated on that host expires there).
final class WatchedPlane: MediaPlane {
    /// The host's control client of this process.
    let client: RelayControlClient
    /// The host's failure in the current function; nil while it answers.
    private(set) var failure: MediaPlaneError?
    /// The host's refusal of an allocation in the current function (full, ports it cannot open, a
    /// switchboard it does not serve, a client address it will not send to): the host works, and
    /// another host of the pool may take the call.
    private(set) var refusedAllocation: MediaPlaneError?

    init(client: RelayControlClient) { self.client = client }

    /// Starts a new function: forgets the previous one's failure and refusal.
    func reset() {
        failure = nil
        refusedAllocation = nil
    }

    private func watching<T>(_ request: () throws -> T) throws -> T {
        if let failure { throw failure }
        do {
            return try request()
        } catch let e as MediaPlaneError {
            if e.planeUnavailable {
                failure = e
                client.close()
            }
            throw e
        } catch {
            let e = MediaPlaneError("\(error)", planeUnavailable: true)
            failure = e
            client.close()
            throw e
        }
    }

    /// The relay's `info`, watched like the three requests.
    func info() throws -> RelayInfo { try watching { try client.info() } }

    func allocateSession(switchboard: String, request: SessionRequest) throws -> AllocatedSession {
        do {
            return try watching { try client.allocateSession(switchboard: switchboard, request: request) }
        } catch let e as MediaPlaneError where !e.planeUnavailable {
            refusedAllocation = e
            throw e
        }
    }

    func updateSession(switchboard: String, session: SessionHandle, request: SessionRequest) throws {
        try watching { try client.updateSession(switchboard: switchboard, session: session, request: request) }
    }

    func deleteSessions(switchboard: String, ids: ClosedRange<Int>, created: UInt32) throws {
        try watching { try client.deleteSessions(switchboard: switchboard, ids: ids, created: created) }
    }

    func deleteSessionsWithoutWaiting(switchboard: String, ids: ClosedRange<Int>, created: UInt32) throws {
        try watching { try client.deleteSessionsWithoutWaiting(switchboard: switchboard, ids: ids, created: created) }
    }
}
