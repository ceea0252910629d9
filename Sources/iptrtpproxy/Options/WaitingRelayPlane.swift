import IPTRTPProxyClient
import IPTRTPProxyCore

/// The relay behind the CLI's function commands, waiting for every answer: the tool ends right
/// after the function and prints what the relay said, so a delete must not leave its reply unread
/// (the module's workers do not wait for deletes; `RelayControlClient.deleteSessionsWithoutWaiting`).
final class WaitingRelayPlane: MediaPlane {
    let relay: RelayControlClient

    init(_ relay: RelayControlClient) { self.relay = relay }

    func allocateSession(switchboard: String, request: SessionRequest) throws -> AllocatedSession {
        try relay.allocateSession(switchboard: switchboard, request: request)
    }

    func updateSession(switchboard: String, session: SessionHandle, request: SessionRequest) throws {
        try relay.updateSession(switchboard: switchboard, session: session, request: request)
    }

    /// Waits (as `deleteSessionsWithoutWaiting` does too, by the protocol's default).
    func deleteSessions(switchboard: String, ids: ClosedRange<Int>, created: UInt32) throws {
        try relay.deleteSessions(switchboard: switchboard, ids: ids, created: created)
    }
}
