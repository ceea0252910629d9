import IPTRTPProxyClient
import IPTRTPProxyCore
import IPTRTPProxyTLS
import XTRTPProxyPlane

/// Everything the module holds in one process. The host's main process builds the configuration;
/// each forked process inherits a copy and then keeps its own selects and its own connection to
/// the relay. Only the host's thread touches it: the proxy's processes are single-threaded, and the
/// embedded relay's process reads it once, before its relay starts any thread.
final class ModuleState {
    /// The one state of this process.
    nonisolated(unsafe) static let shared = ModuleState()  // only the host's one thread per process calls ipt_mod_*

    /// What the modparams said.
    var configuration = ModuleConfiguration()
    /// The switchboards, fixed at module init.
    var switchboards: SwitchboardSet?
    /// The embedded relay's control socket, when the relay is embedded (fixed at module init).
    var embeddedSocketPath: String?
    /// The process that ran module init (the host's main process).
    var initPID: Int32 = 0
    /// This process's connection to the relay, made on first use (after the fork).
    var client: RelayControlClient?
    /// The five functions over that connection.
    var functions: ScriptFunctions?
    /// The selects of the current script run.
    var selects = SelectValues()

    /// One buffer per select, so that reading one does not move another.
    let selectOut = [ReturnedBuffer(), ReturnedBuffer(), ReturnedBuffer(), ReturnedBuffer()]
    /// Management reports handed to the host.
    let reportOut = ReturnedBuffer()

    /// Where this process reaches the relay.
    var relayAddress: ControlAddress? {
        switch configuration.relay {
        case .embedded: return embeddedSocketPath.map { .unix(path: $0) }
        case .external(let address): return address
        case .xt: return nil
        }
    }

    /// Opens the xt_RTPPROXY plane: the library, and every switchboard looked up in the kernel.
    func openXTPlane(_ switchboards: SwitchboardSet, libraryPath: String?) -> Result<XTRTPProxyMediaPlane, ModuleConfigError> {
        do {
            return .success(try XTRTPProxyMediaPlane(switchboards: switchboards, libraryPath: libraryPath))
        } catch {
            return .failure(ModuleConfigError("relay xt: \(error)"))
        }
    }

    /// This process's relay client, made on first use. Connecting happens lazily inside the
    /// client, so a relay that is down costs one bounded wait per call, never a dead worker.
    func clientForThisProcess() -> Result<RelayControlClient, ModuleConfigError> {
        if let client { return .success(client) }
        guard switchboards != nil, let address = relayAddress else {
            return .failure(ModuleConfigError("the module was not initialised (mod_init did not run or failed)"))
        }
        // The TLS context is made here, in the worker, after the fork (OpenSSL state is per process).
        var tls: TLSContext?
        if case .tls = address {
            let files = configuration.relayTLSFiles
            guard let ca = files.ca else {
                return .failure(ModuleConfigError("relay \(address) needs modparam relay_tls_ca (the CA that signed its certificate)"))
            }
            do {
                tls = try TLSContext.client(caFile: ca, certificateFile: files.certificate, keyFile: files.key)
            } catch {
                return .failure(ModuleConfigError("relay \(address): \(error)"))
            }
        }
        let c = RelayControlClient(
            address: address, secret: configuration.relaySecret, timeout: configuration.relayTimeout, tls: tls)
        client = c
        return .success(c)
    }

    /// The five functions of this process over its relay client.
    func functionsForThisProcess() -> Result<ScriptFunctions, ModuleConfigError> {
        if let functions { return .success(functions) }
        guard let switchboards else {
            return .failure(ModuleConfigError("the module was not initialised (mod_init did not run or failed)"))
        }
        if case .xt(let path) = configuration.relay {
            // Each process opens its own library handle, as a socket is not to be shared by workers.
            switch openXTPlane(switchboards, libraryPath: path) {
            case .success(let plane):
                let f = ScriptFunctions(switchboards: plane.switchboards, plane: plane)
                functions = f
                return .success(f)
            case .failure(let e):
                return .failure(e)
            }
        }
        switch clientForThisProcess() {
        case .success(let c):
            let f = ScriptFunctions(switchboards: switchboards, plane: c)
            functions = f
            return .success(f)
        case .failure(let e):
            return .failure(e)
        }
    }
}
