import IPTRTPProxyClient
import IPTRTPProxyCore

/// The answers of the RPC commands, as `RPCValue` trees built from the relays' own reports and
/// the media hosts' health. Each throws an `RPCFault` (code and one line) instead of answering
/// when its parameters are wrong or no relay answers.
enum ManagementReport {
    /// Sessions in one `iptrtpproxy.list` answer when LIMIT is not given: small enough for kamcmd
    /// (whose reply buffer is 128 KiB) with the longest records.
    static let defaultLimit = 100
    /// The most sessions one answer may hold: the ctl module keeps an array's items in 8 KiB
    /// (`binrpc_struct_max_body_size`, 2 bytes per record), jsonrpcs builds the whole reply in
    /// Kamailio's private memory; larger lists are read page by page (OFFSET, LIMIT).
    static let maxLimit = 1000

    static let listUsage = "[OFFSET [LIMIT [SWITCHBOARD]]] (LIMIT 0-\(maxLimit), default \(defaultLimit); SWITCHBOARD * for all)"
    static let statsUsage = "[SWITCHBOARD]"

    /// `iptrtpproxy.list [OFFSET [LIMIT [SWITCHBOARD]]]`: `{total, offset, limit, count, sessions,
    /// errors}`: `total` sessions (of SWITCHBOARD, when given) over every relay that answered,
    /// `sessions` the records from OFFSET on, at most LIMIT of them (the relays' sessions one after
    /// the other, each by switchboard then id), `errors` one line per media host that did not answer.
    static func sessions(_ state: ModuleState, _ parameters: RPCParameters) throws(RPCFault) -> RPCValue {
        try parameters.expectAtMost(3)
        let offset = try parameters.wholeNumber(0, "OFFSET", default: 0, in: 0...Int(Int32.max))
        let limit = try parameters.wholeNumber(1, "LIMIT", default: defaultLimit, in: 0...maxLimit)
        let switchboard = try parameters.switchboard(2)
        var records: [RPCValue] = [], errors: [RPCValue] = []
        var total = 0, answered = 0, declared = false
        for relay in try relaysToAsk(state, parameters.command) {
            guard case .ask(let client, let host, let name) = relay else {
                if case .unavailable(let reason) = relay { errors.append(.text(reason)) }
                continue
            }
            do {
                if let switchboard, try !patiently(client, { try $0.info() }).switchboards.contains(where: { $0.switchboard.name == switchboard }) {
                    answered += 1
                    continue
                }
                let sessions = try patiently(client) { try $0.list(switchboard: switchboard) }.sessions
                answered += 1
                declared = true
                let window = PageWindow(offset: offset, limit: limit, before: total, count: sessions.count)
                records += sessions[window.range].map { $0.rpcRecord(host: host) }
                total += sessions.count
            } catch {
                errors.append(.text(name.map { "\($0): \(error)" } ?? "\(error)"))
            }
        }
        guard answered > 0 else { throw noRelayAnswered(errors) }
        if let switchboard, !declared {
            throw .badParameter("\(parameters.command): unknown switchboard '\(switchboard)'\(errors.isEmpty ? "" : " (on the relays that answered)")")
        }
        return .object([
            RPCMember("total", .count(total)),
            RPCMember("offset", .count(offset)),
            RPCMember("limit", .count(limit)),
            RPCMember("count", .count(records.count)),
            RPCMember("sessions", .array(records)),
            RPCMember("errors", .array(errors)),
        ])
    }

    /// `iptrtpproxy.stats [SWITCHBOARD]`: the relay's counters as an object of numbers with
    /// `switchboards` (or SWITCHBOARD's alone). With several media hosts: the numbers added over
    /// the hosts that answered (uptime left out) and `hosts`, each host's id, address, state,
    /// error and own numbers.
    static func stats(_ state: ModuleState, _ parameters: RPCParameters) throws(RPCFault) -> RPCValue {
        try parameters.expectAtMost(1)
        let switchboard = try parameters.switchboard(0)
        let relays = try relaysToAsk(state, parameters.command)
        func record(_ client: RelayControlClient) throws -> RPCValue? {
            let stats = try patiently(client) { try $0.stats() }
            guard let switchboard else { return stats.rpcRecord }
            return stats.rpcRecord(switchboard: switchboard)
        }
        func unknown() -> RPCFault { .badParameter("\(parameters.command): unknown switchboard '\(switchboard ?? "")'") }
        if relays.count == 1 {
            switch relays[0] {
            case .unavailable(let reason): throw RPCFault(503, reason)
            case .ask(let client, _, let name):
                do {
                    guard let r = try record(client) else { throw unknown() }
                    return r
                } catch let fault as RPCFault {
                    throw fault
                } catch {
                    throw RPCFault(503, name.map { "\($0): \(error)" } ?? "\(error)")
                }
            }
        }
        var hosts: [RPCValue] = [], answers: [RPCValue] = [], errors: [RPCValue] = []
        for (i, relay) in relays.enumerated() {
            let e = state.pool?.endpoints[i]
            var head = [RPCMember("id", .text(e?.id ?? "")), RPCMember("address", .text(e.map { "\($0.address)" } ?? ""))]
            switch relay {
            case .unavailable(let reason):
                head += [RPCMember("state", .text("down")), RPCMember("error", .text(reason))]
                errors.append(.text(reason))
            case .ask(let client, _, let name):
                do {
                    let r = try record(client)
                    head += [RPCMember("state", .text("up")), RPCMember("error", .text(""))]
                    if let r, case .object(let members) = r {
                        head += members
                        answers.append(r)
                    }
                } catch {
                    let reason = name.map { "\($0): \(error)" } ?? "\(error)"
                    head += [RPCMember("state", .text("failed")), RPCMember("error", .text(reason))]
                    errors.append(.text(reason))
                }
            }
            hosts.append(.object(head))
        }
        guard errors.count < relays.count else { throw noRelayAnswered(errors) }
        if switchboard != nil && answers.isEmpty { throw unknown() }
        return .object(RPCValue.sumOfNumbers(answers, except: ["uptime"]) + [RPCMember("hosts", .array(hosts))])
    }

    /// `iptrtpproxy.relays`: one record per media host: id, address, weight, state (up, down,
    /// unknown), since (Unix time) and since-text (UTC), sessions at the last probe (-1 before the
    /// first), calls given to it by this proxy, times it went down, and its last error.
    static func relays(_ state: ModuleState, _ parameters: RPCParameters) throws(RPCFault) -> RPCValue {
        try parameters.expectAtMost(0)
        guard let pool = state.pool else {
            throw RPCFault(501, "\(parameters.command) lists external relays; this proxy's relay is \(state.configuration.plane)")
        }
        let t = pool.table
        return .array(pool.endpoints.indices.map { i in
            let e = pool.endpoints[i]
            return .object([
                RPCMember("id", .text(e.id)),
                RPCMember("address", .text("\(e.address)")),
                RPCMember("weight", .count(e.weight)),
                RPCMember("state", .text(t.health(i).word)),
                RPCMember("since", .count(t.since(i))),
                RPCMember("since-text", .text(ReportTime.text(t.since(i)))),
                RPCMember("sessions", .count(t.sessions(i) ?? -1)),
                RPCMember("allocated", .count(t.allocations(i))),
                RPCMember("failures", .count(t.failures(i))),
                RPCMember("last-error", .text(t.lastError(i) ?? "")),
            ])
        })
    }

    /// The longest wait for a relay's report, in milliseconds: a `list` of thousands of sessions
    /// takes longer than an alloc (whose `relay_timeout` is short), and an operator's command may
    /// wait a few seconds where a call may not.
    static let reportTimeout: Int32 = 5000

    /// Runs `body` with `client` waiting at least `reportTimeout`, then restores its timeout.
    static func patiently<T>(_ client: RelayControlClient, _ body: (RelayControlClient) throws -> T) throws -> T {
        let saved = client.timeout
        client.timeout = max(saved, reportTimeout)
        defer { client.timeout = saved }
        return try body(client)
    }

    /// A relay a report asks, or why it is not asked.
    enum Relay {
        /// Ask `client`; `host` goes into session ids (several media hosts), `name` into errors.
        case ask(RelayControlClient, host: String?, name: String?)
        /// A media host known to be down.
        case unavailable(String)
    }

    /// The embedded relay, or every media host in modparam order.
    static func relaysToAsk(_ state: ModuleState, _ command: String) throws(RPCFault) -> [Relay] {
        if case .xt = state.configuration.plane {
            throw RPCFault(501, "relay xt keeps its sessions in the kernel: use 'iptrtpproxy list' of the xt tools")
        }
        guard let pool = state.pool else {
            switch state.embeddedClient() {
            case .success(let c): return [.ask(c, host: nil, name: nil)]
            case .failure(let e): throw RPCFault(503, "\(e)")
            }
        }
        return pool.endpoints.indices.map { i in
            if let down = pool.unavailability(i) { return .unavailable(down) }
            do {
                return .ask(try pool.host(i).plane.client, host: pool.tagsIDs ? pool.endpoints[i].id : nil, name: pool.name(i))
            } catch {
                return .unavailable("\(pool.name(i)): \(error)")
            }
        }
    }

    private static func noRelayAnswered(_ errors: [RPCValue]) -> RPCFault {
        RPCFault(503, errors.compactMap(\.textValue).joined(separator: "; "))
    }
}

/// Which of one relay's sessions fall into a page of a list that runs over several relays.
struct PageWindow: Equatable {
    /// The indices of this relay's sessions that are in the page.
    var range: Range<Int>

    /// The page holds the list's items `offset ..< offset+limit`; this relay's `count` sessions
    /// come after `before` sessions of the relays asked before it.
    init(offset: Int, limit: Int, before: Int, count: Int) {
        let start = min(count, max(0, offset - before))
        let end = max(start, min(count, offset + limit - before))
        range = start..<end
    }
}
