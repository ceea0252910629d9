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

    init(client: RelayControlClient) { self.client = client }

    /// Starts a new function: forgets the previous one's failure.
    func reset() { failure = nil }

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
        try watching { try client.allocateSession(switchboard: switchboard, request: request) }
    }

    func updateSession(switchboard: String, session: SessionHandle, request: SessionRequest) throws {
        try watching { try client.updateSession(switchboard: switchboard, session: session, request: request) }
    }

    func deleteSessions(switchboard: String, ids: ClosedRange<Int>, created: UInt32) throws {
        try watching { try client.deleteSessions(switchboard: switchboard, ids: ids, created: created) }
    }
}
