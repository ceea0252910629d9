import CXTRTPProxy
import IPTRTPProxyCore

/// libipt_RTPPROXY, loaded and opened: the calls of spec §1 with Swift values. One handle (one
/// kernel socket); not thread-safe.
final class XTRTPProxyLibrary {
    private let raw: OpaquePointer

    /// The file the library came from.
    let path: String

    /// Loads and opens the library (`path` nil: `$IPT_RTPPROXY_LIB`, then the xtables folders).
    init(path: String?) throws {
        var error = [CChar](repeating: 0, count: 512)
        let opened: OpaquePointer? = path.map { ipt_xt_open($0, &error, error.count) } ?? ipt_xt_open(nil, &error, error.count)
        guard let opened else {
            throw MediaPlaneError("xt_RTPPROXY: \(String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))")
        }
        raw = opened
        self.path = String(cString: ipt_xt_path(opened))
    }

    deinit { ipt_xt_close(raw) }

    private var lastError: MediaPlaneError { MediaPlaneError("xt_RTPPROXY: " + String(cString: ipt_xt_error(raw))) }

    /// The kernel's gates of the switchboard with `gates`, or nil when it has none.
    func findSwitchboard(_ gates: ipt_xt_gates) throws -> ipt_xt_gates? {
        var g = gates, found = ipt_xt_gates()
        switch ipt_xt_find_switchboard(raw, &g, &found) {
        case 1: return found
        case 0: return nil
        default: throw lastError
        }
    }

    func allocate(_ gates: ipt_xt_gates, _ request: ipt_xt_session_request) throws -> ipt_xt_allocated {
        var g = gates, r = request, out = ipt_xt_allocated()
        guard ipt_xt_alloc_session(raw, &g, &r, &out) == 0 else { throw lastError }
        return out
    }

    func update(_ gates: ipt_xt_gates, id: Int32, created: UInt32, _ request: ipt_xt_session_request) throws {
        var g = gates, r = request
        guard ipt_xt_update_session(raw, &g, id, created, &r) == 0 else { throw lastError }
    }

    func delete(_ gates: ipt_xt_gates, first: Int32, last: Int32, created: UInt32) throws {
        var g = gates
        guard ipt_xt_delete_sessions(raw, &g, first, last, created) == 0 else { throw lastError }
    }
}
