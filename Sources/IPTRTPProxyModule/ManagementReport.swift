import IPTRTPProxyClient
import IPTRTPProxyCore

/// The text behind the RPC commands: the relay's own reports, as the CLI prints them.
enum ManagementReport {
    /// One line per live session (`iptrtpproxy.list`).
    static func sessions() throws -> String {
        try client().list().text(detailed: false)
    }

    /// Relay-wide counters (`iptrtpproxy.stats`).
    static func stats() throws -> String {
        try client().stats().text
    }

    private static func client() throws -> RelayControlClient {
        if case .xt = ModuleState.shared.configuration.relay {
            throw ModuleConfigError("relay xt keeps its sessions in the kernel: use 'iptrtpproxy list' of the xt tools")
        }
        switch ModuleState.shared.clientForThisProcess() {
        case .success(let c): return c
        case .failure(let e): throw e
        }
    }
}
