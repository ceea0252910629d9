import CIPTRTPProxy
import Glibc

/// A POSIX thread running one closure. The engine starts its threads only in `start()`, so that a
/// host which forks (Kamailio) can create the engine first and start it in the child.
final class PosixThread {
    private var handle = pthread_t()
    private var running = false

    /// Starts `body` on a new thread named `name` (what `top -H` shows; error messages use it too).
    init(name: String, _ body: @escaping () -> Void) throws {
        let box = Unmanaged.passRetained(ThreadBody(name: name, body: body))
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
        running = true
    }

    /// Waits for the thread to end.
    func join() {
        guard running else { return }
        pthread_join(handle, nil)
        running = false
    }
}

private final class ThreadBody {
    let name: String
    let body: () -> Void
    init(name: String, body: @escaping () -> Void) {
        self.name = name
        self.body = body
    }
}
