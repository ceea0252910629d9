import Glibc
import IPTRTPProxyClient
import IPTRTPProxyCore
import IPTRTPProxyTLS
import XTRTPProxyPlane

/// Everything the module holds in one process. The host's main process builds the configuration;
/// each forked process inherits a copy and then keeps its own selects and its own connections to
/// the relays. Only the host's thread touches it: the proxy's processes are single-threaded, and the
/// embedded relay's process reads it once, before its relay starts any thread.
final class ModuleState {
    /// The one state of this process.
    nonisolated(unsafe) static let shared = ModuleState()  // only the host's one thread per process calls ipt_mod_*

    /// What the modparams said.
    var configuration = ModuleConfiguration()
    /// The switchboards of the embedded relay or xt, fixed at module init (nil with external
    /// relays: each declares its own).
    var switchboards: SwitchboardSet?
    /// The media hosts, with external relays (made at module init, with the shared table).
    var pool: RelayPool?
    /// The embedded relay's control socket, when the relay is embedded (fixed at module init).
    var embeddedSocketPath: String?
    /// The embedded relay's journal (fixed at module init; nil: none).
    var embeddedJournalPath: String?
    /// The process that ran module init (the host's main process).
    var initPID: Int32 = 0
    /// This process's connection to the embedded relay, made on first use (after the fork).
    var client: RelayControlClient?
    /// The five functions over the embedded relay or xt.
    var functions: ScriptFunctions?
    /// The selects of the current script run.
    var selects = SelectValues()

    /// One buffer per select, so that reading one does not move another.
    let selectOut = [ReturnedBuffer(), ReturnedBuffer(), ReturnedBuffer(), ReturnedBuffer()]
    /// Texts handed to the host by the RPC commands (their fault lines).
    let reportOut = ReturnedBuffer()

    /// Where this process's functions run.
    enum Planes {
        /// One plane: the embedded relay or xt.
        case single(ScriptFunctions)
        /// The media hosts.
        case pool(RelayPool)
    }

    /// Opens the xt_RTPPROXY plane: the library, and every switchboard looked up in the kernel.
    func openXTPlane(_ switchboards: SwitchboardSet, libraryPath: String?) -> Result<XTRTPProxyMediaPlane, ModuleConfigError> {
        do {
            return .success(try XTRTPProxyMediaPlane(switchboards: switchboards, libraryPath: libraryPath))
        } catch {
            return .failure(ModuleConfigError("relay xt: \(error)"))
        }
    }

    /// The embedded relay's client of this process, made on first use. Connecting happens lazily
    /// inside the client, so a relay that is down costs one bounded wait per call, never a dead worker.
    func embeddedClient() -> Result<RelayControlClient, ModuleConfigError> {
        if let client { return .success(client) }
        guard switchboards != nil, let path = embeddedSocketPath else {
            return .failure(ModuleConfigError("the module was not initialised (mod_init did not run or failed)"))
        }
        let c = RelayControlClient(address: .unix(path: path), timeout: configuration.relayTimeout)
        // iptrtpproxy_delete does not wait for the relay: its refusals are logged as they come.
        c.lateRefusal = { HostLog.warning($0) }
        client = c
        return .success(c)
    }

    /// The planes of this process.
    func planesForThisProcess() -> Result<Planes, ModuleConfigError> {
        if let pool { return .success(.pool(pool)) }
        if let functions { return .success(.single(functions)) }
        guard let switchboards else {
            return .failure(ModuleConfigError("the module was not initialised (mod_init did not run or failed)"))
        }
        if case .xt(let path) = configuration.plane {
            // Each process opens its own library handle, as a socket is not to be shared by workers.
            switch openXTPlane(switchboards, libraryPath: path) {
            case .success(let plane):
                let f = ScriptFunctions(switchboards: plane.switchboards, plane: plane)
                functions = f
                return .success(.single(f))
            case .failure(let e):
                return .failure(e)
            }
        }
        switch embeddedClient() {
        case .success(let c):
            let f = ScriptFunctions(switchboards: switchboards, plane: c)
            functions = f
            return .success(.single(f))
        case .failure(let e):
            return .failure(e)
        }
    }
}
