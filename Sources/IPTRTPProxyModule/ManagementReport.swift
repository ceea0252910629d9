import IPTRTPProxyClient
import IPTRTPProxyCore

/// The text behind the RPC commands: the relay's own reports, as the CLI prints them.
enum ManagementReport {
    /// One line per live session (`iptrtpproxy.list`).
    static func sessions(_ state: ModuleState) throws -> String {
        try client(state).list().text(detailed: false)
    }

    /// Relay-wide counters (`iptrtpproxy.stats`).
    static func stats(_ state: ModuleState) throws -> String {
        try client(state).stats().text
    }

    private static func client(_ state: ModuleState) throws -> RelayControlClient {
        if case .xt = state.configuration.relay {
            throw ModuleConfigError("relay xt keeps its sessions in the kernel: use 'iptrtpproxy list' of the xt tools")
        }
        switch state.clientForThisProcess() {
        case .success(let c): return c
        case .failure(let e): throw e
        }
    }
}
