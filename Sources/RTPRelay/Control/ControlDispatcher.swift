import IPTRTPProxyCore

extension RelayEngine {
    /// Answers one control request (everything but `auth`, which the server handles per
    /// connection). Never throws and never traps: failures become error replies. `allocated` is
    /// told the session an `alloc` made (the control server undoes it when the client turns out
    /// gone before it could read the reply).
    public func reply(to request: ControlRequest, allocated: ((SessionHandle) -> Void)? = nil) -> ControlReply {
        let outcome: ControlReply.Outcome
        do {
            switch request.command {
            case .ping:
                outcome = .ok("pong")
            case .auth:
                outcome = .ok("")
            case .info:
                outcome = .ok(info().json)
            case .list(let switchboard):
                outcome = .ok(try list(switchboard: switchboard).json)
            case .stats:
                outcome = .ok(statistics().json)
            case .alloc(let switchboard, let r):
                let session = try allocateSession(switchboard: switchboard, request: r)
                allocated?(session.handle)
                outcome = .ok(ControlProtocol.encode(session))
            case .update(let switchboard, let session, let r):
                try updateSession(switchboard: switchboard, session: session, request: r)
                outcome = .ok("")
            case .delete(let switchboard, let ids, let created):
                try deleteSessions(switchboard: switchboard, ids: ids, created: created)
                outcome = .ok("")
            case .subscribe:
                // Only a control connection can carry events (the control server answers it there).
                outcome = .error("subscribe needs a control connection")
            }
        } catch {
            outcome = .error("\(error)")
        }
        if case .error = outcome { noteControlRequest(failed: true) } else { noteControlRequest(failed: false) }
        return ControlReply(id: request.id, outcome: outcome)
    }

    /// Answers one raw request line: a line that does not parse gets an error reply carrying the
    /// request id when it could be read, `-` otherwise.
    public func reply(toLine line: [UInt8]) -> ControlReply {
        do {
            return reply(to: try ControlProtocol.decodeRequest(line))
        } catch let e as ControlProtocolError {
            noteControlRequest(failed: true)
            return ControlReply(id: e.id ?? "-", outcome: .error(e.message))
        } catch {
            noteControlRequest(failed: true)
            return ControlReply(id: "-", outcome: .error("\(error)"))
        }
    }
}
