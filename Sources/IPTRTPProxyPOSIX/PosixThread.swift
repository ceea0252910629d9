import CIPTRTPProxy
import Glibc
import Synchronization

/// A POSIX thread running one closure. The relay starts its threads only in `start()`, so that a
/// host which forks (Kamailio) can create the relay first and start it in the child; Dispatch and
/// Swift concurrency would start threads of their own at the wrong time.
public final class PosixThread: Sendable {
    private let handle: pthread_t
    private let joined = Atomic<Bool>(false)

    /// Starts `body` on a new thread named `name` (what `top -H` shows; error messages use it too).
    /// `body` is `sending`: what it captures is handed to the new thread, which owns it from then
    /// on (the caller cannot touch it any more), so thread-owned state needs no lock.
    public init(name: String, _ body: sending @escaping () -> Void) throws {
        let box = Unmanaged.passRetained(ThreadBody(name: name, body: body))
        var handle = pthread_t()
        let rc = pthread_create(&handle, nil, { raw in
            let box = Unmanaged<ThreadBody>.fromOpaque(raw!).takeRetainedValue()
            _ = ipt_set_thread_name(box.name)
            box.body()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            throw SystemError("pthread_create(\(name))", code: rc)
        }
        self.handle = handle
    }

    /// Waits for the thread to end; later calls return at once.
    public func join() {
        guard !joined.exchange(true, ordering: .acquiringAndReleasing) else { return }
        pthread_join(handle, nil)
    }

    deinit {
        // A thread nobody waited for must not hold its resources forever.
        if !joined.load(ordering: .acquiring) { pthread_detach(handle) }
    }
}

/// The closure on its way to the new thread; only that thread touches it once created.
private final class ThreadBody {
    let name: String
    let body: () -> Void
    init(name: String, body: @escaping () -> Void) {
        self.name = name
        self.body = body
    }
}
