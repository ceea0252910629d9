import Glibc
import IPTRTPProxyClient
import IPTRTPProxyCore
import IPTRTPProxyPOSIX
import IPTRTPProxyTLS

// The relays' events reaching the script (ipt_mod.h, "the events process"): one process of the
// proxy subscribes to every relay and hands each session the relay expired for lack of media to
// the host, which runs `event_route[iptrtpproxy:timeout]` with `@iptrtpproxy.session_ids` set.

/// Called once per expired session with its ids (`switchboard[@host]:ID/CREATED`); the select
/// `session_ids` holds the same text while it runs.
public typealias HostEventHandler = @convention(c) (UnsafePointer<CChar>?, Int32) -> Int32

/// 1 when there are relays to subscribe to (embedded or external), 0 with xt.
@_cdecl("ipt_mod_wants_events")
public func ipt_mod_wants_events() -> Int32 {
    let state = ModuleState.shared
    return state.pool != nil || state.embeddedSocketPath != nil ? 1 : 0
}

/// Runs the events loop in the freshly forked events process; returns when the main process is gone.
@_cdecl("ipt_mod_run_events")
public func ipt_mod_run_events(_ handler: HostEventHandler?) -> Int32 {
    let state = ModuleState.shared
    guard ParentDeath.tie(to: state.initPID) else { _exit(0) }
    guard let handler else { return -1 }
    let sources: [RelayEventSource]
    do {
        sources = try RelayEventSource.all(state)
    } catch {
        HostLog.error("events: \(error)")
        return -1
    }
    guard !sources.isEmpty else {
        HostLog.error("events: no relay to subscribe to")
        return -1
    }
    var loop = RelayEventLoop(sources: sources, mainPID: state.initPID) { ids in
        state.selects = SelectValues()
        state.selects.sessionIDs = ids
        _ = ids.withCString { handler($0, Int32(ids.utf8.count)) }
        state.selects = SelectValues()
    }
    loop.run()
    return 0
}

/// One relay the events process subscribes to.
struct RelayEventSource {
    let client: RelayControlClient
    /// The host part of the session ids (several media hosts), nil otherwise.
    let host: String?
    /// For log lines.
    let name: String

    /// Every relay of the module's configuration.
    static func all(_ state: ModuleState) throws -> [RelayEventSource] {
        if let path = state.embeddedSocketPath {
            return [RelayEventSource(
                client: RelayControlClient(address: .unix(path: path), timeout: state.configuration.relayTimeout),
                host: nil, name: "the embedded relay")]
        }
        guard let pool = state.pool else { return [] }
        let clients = try pool.makeClients()
        return pool.endpoints.indices.map { i in
            RelayEventSource(client: clients[i], host: pool.tagsIDs ? pool.endpoints[i].id : nil, name: pool.name(i))
        }
    }
}

/// Subscribes to every relay, again after a relay went away, and hands on every expired session.
struct RelayEventLoop {
    let sources: [RelayEventSource]
    let mainPID: Int32
    let deliver: (String) -> Void
    private var subscribed: [Bool]
    private var nextTry: [Int64]
    private var complained: [Bool]
    /// A relay starting with the proxy (the embedded one) is not complained about at once.
    private let started = MonotonicClock.milliseconds()

    init(sources: [RelayEventSource], mainPID: Int32, deliver: @escaping (String) -> Void) {
        self.sources = sources
        self.mainPID = mainPID
        self.deliver = deliver
        subscribed = Array(repeating: false, count: sources.count)
        nextTry = Array(repeating: 0, count: sources.count)
        complained = Array(repeating: false, count: sources.count)
    }

    /// Until the main process is gone.
    mutating func run() {
        HostLog.info("events: subscribing to \(sources.count) relay(s) for expired sessions")
        while getppid() == mainPID {
            let now = MonotonicClock.milliseconds()
            for i in sources.indices where !subscribed[i] && now >= nextTry[i] { subscribe(i, now: now) }
            var fds: [pollfd] = []
            var which: [Int] = []
            for i in sources.indices where subscribed[i] {
                guard let fd = sources[i].client.fileDescriptor else {
                    subscribed[i] = false
                    continue
                }
                fds.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                which.append(i)
            }
            _ = retryingOnInterrupt { poll(&fds, nfds_t(fds.count), 500) }
            for (k, i) in which.enumerated() where fds[k].revents != 0 { read(i) }
        }
    }

    private mutating func subscribe(_ i: Int, now: Int64) {
        let source = sources[i]
        source.client.close()
        do {
            try source.client.subscribe()
            subscribed[i] = true
            complained[i] = false
            HostLog.info("events: subscribed to \(source.name)")
        } catch {
            nextTry[i] = now + 1000
            if !complained[i] && now - started > 5000 {
                complained[i] = true
                HostLog.warning("events: cannot subscribe to \(source.name): \(error); trying again every second")
            }
        }
    }

    private mutating func read(_ i: Int) {
        let source = sources[i]
        let events: [ControlEvent]
        do {
            events = try source.client.events(waitingAtMost: 1)
        } catch {
            subscribed[i] = false
            nextTry[i] = MonotonicClock.milliseconds() + 200
            HostLog.warning("events: \(source.name) went away (\(error)); subscribing again")
            return
        }
        for event in events {
            switch event {
            case .expired(let switchboard, let session):
                let ids = SessionIDList(switchboard: switchboard, host: source.host, entries: [session]).description
                HostLog.info("events: \(source.name) expired session \(ids) (no media)")
                deliver(ids)
            }
        }
    }
}
