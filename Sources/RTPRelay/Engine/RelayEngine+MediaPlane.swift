import IPTRTPProxyCore

/// The engine as a `MediaPlane`: alloc binds a session's four sockets and starts forwarding,
/// update re-points it, delete closes it. Every change is journaled before the call returns.
extension RelayEngine: MediaPlane {
    public func allocateSession(switchboard name: String, request: SessionRequest) throws -> AllocatedSession {
        try operations.allocate(switchboard: name, request: request)
    }

    public func updateSession(switchboard name: String, session: SessionHandle, request: SessionRequest) throws {
        try operations.update(switchboard: name, session: session, request: request)
    }

    public func deleteSessions(switchboard name: String, ids: ClosedRange<Int>, created: UInt32) throws {
        try operations.delete(switchboard: name, ids: ids, created: created)
    }
}
