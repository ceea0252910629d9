import IPTRTPProxyCore

/// Everything the module holds in one process. The host's main process builds the configuration;
/// each forked worker inherits a copy and then keeps its own selects and its own way to the media
/// plane. Only the host glue's thread touches it (the proxy's workers are single-threaded).
final class ModuleState {
    /// The one state of this process.
    static let shared = ModuleState()

    /// What the modparams said.
    var configuration = ModuleConfiguration()
    /// The switchboards, fixed at module init.
    var switchboards: SwitchboardSet?
    /// The five functions over this process's media plane, made on first use in each process.
    var functions: ScriptFunctions?
    /// Why the functions could not be made (logged once per call, never retried silently).
    var planeFailure: String?
    /// The selects of the current script run.
    var selects = SelectValues()

    /// The rewritten body handed to the host.
    let bodyOut = ReturnedBuffer()
    /// One buffer per select, so that reading one does not move another.
    let selectOut = [ReturnedBuffer(), ReturnedBuffer(), ReturnedBuffer(), ReturnedBuffer()]
    /// Management reports handed to the host.
    let reportOut = ReturnedBuffer()

    /// The functions of this process, connecting to the media plane on first use.
    func functionsForThisProcess() -> Result<ScriptFunctions, ModuleConfigError> {
        if let functions { return .success(functions) }
        guard let switchboards else {
            return .failure(ModuleConfigError("the module was not initialised (mod_init did not run or failed)"))
        }
        switch MediaPlaneConnector.connect(configuration.relay, switchboards: switchboards) {
        case .success(let plane):
            let f = ScriptFunctions(switchboards: switchboards, plane: plane)
            functions = f
            return .success(f)
        case .failure(let e):
            return .failure(e)
        }
    }
}
