import IPTRTPProxyCore
import Synchronization

/// What housekeeping tells the control server's subscribers (`subscribe`): the sessions it
/// expired. Housekeeping only appends under a short lock and never waits on a connection; the
/// control thread takes the events and queues them on each subscribed connection. Nothing is
/// kept while no connection subscribes, and at most `capacity` events wait (the oldest go first).
final class ExpiryEvents: Sendable {
    static let capacity = 4096
    private let pending = Mutex<[ControlEvent]>([])
    /// Subscribed connections, as the control thread last counted them.
    let subscribers = Atomic<Int>(0)

    /// Housekeeping: adds events when anyone listens.
    func publish(_ events: [ControlEvent]) {
        guard !events.isEmpty, subscribers.load(ordering: .relaxed) > 0 else { return }
        pending.withLock { pending in
            pending.append(contentsOf: events)
            if pending.count > Self.capacity { pending.removeFirst(pending.count - Self.capacity) }
        }
    }

    /// The control thread: the events published since the last call.
    func take() -> [ControlEvent] {
        pending.withLock { pending in
            defer { pending = [] }
            return pending
        }
    }
}
