import Glibc
import IPTRTPProxyCore
import IPTRTPProxyPOSIX

// The configuration phase of ipt_mod.h: log sink, modparams, module init. These run in the host's
// main process while it reads its script, before any fork.

/// Installs the host's log sink.
@_cdecl("ipt_mod_set_log_sink")
public func ipt_mod_set_log_sink(_ sink: (@convention(c) (Int32, UnsafePointer<CChar>?, Int32) -> Void)?) {
    HostLog.install(sink)
}

/// Installs the host's level check: lines of a level the host drops are not formatted.
@_cdecl("ipt_mod_set_log_enabled")
public func ipt_mod_set_log_enabled(_ enabled: (@convention(c) (Int32) -> Int32)?) {
    HostLog.install(enabled: enabled)
}

/// modparam `config`.
@_cdecl("ipt_mod_set_config")
public func ipt_mod_set_config(_ path: UnsafePointer<CChar>?, _ length: Int32) -> Int32 {
    configure("config") { config in
        guard let text = HostText.string(path, length) else { throw ModuleConfigError("modparam 'config': bad value") }
        try config.setConfig(text)
    }
}

/// modparam `switchboard`.
@_cdecl("ipt_mod_add_switchboard_param")
public func ipt_mod_add_switchboard_param(_ text: UnsafePointer<CChar>?, _ length: Int32) -> Int32 {
    configure("switchboard") { config in
        guard let value = HostText.string(text, length) else { throw ModuleConfigError("modparam 'switchboard': bad value") }
        try config.addSwitchboardParam(value)
    }
}

/// modparam `relay`.
@_cdecl("ipt_mod_set_relay")
public func ipt_mod_set_relay(_ text: UnsafePointer<CChar>?, _ length: Int32) -> Int32 {
    configure("relay") { config in
        guard let value = HostText.string(text, length) else { throw ModuleConfigError("modparam 'relay': bad value") }
        try config.setRelay(value)
    }
}

/// modparam `relay_secret`.
@_cdecl("ipt_mod_set_relay_secret")
public func ipt_mod_set_relay_secret(_ text: UnsafePointer<CChar>?, _ length: Int32) -> Int32 {
    configure("relay_secret") { config in
        guard let value = HostText.string(text, length) else { throw ModuleConfigError("modparam 'relay_secret': bad value") }
        try config.setRelaySecret(value)
    }
}

/// modparam `relay_tls_ca`.
@_cdecl("ipt_mod_set_relay_tls_ca")
public func ipt_mod_set_relay_tls_ca(_ text: UnsafePointer<CChar>?, _ length: Int32) -> Int32 {
    configure("relay_tls_ca") { config in try config.setRelayTLS(.ca, HostText.string(text, length)) }
}

/// modparam `relay_tls_cert`.
@_cdecl("ipt_mod_set_relay_tls_cert")
public func ipt_mod_set_relay_tls_cert(_ text: UnsafePointer<CChar>?, _ length: Int32) -> Int32 {
    configure("relay_tls_cert") { config in try config.setRelayTLS(.certificate, HostText.string(text, length)) }
}

/// modparam `relay_tls_key`.
@_cdecl("ipt_mod_set_relay_tls_key")
public func ipt_mod_set_relay_tls_key(_ text: UnsafePointer<CChar>?, _ length: Int32) -> Int32 {
    configure("relay_tls_key") { config in try config.setRelayTLS(.key, HostText.string(text, length)) }
}

/// modparam `relay_journal`.
@_cdecl("ipt_mod_set_relay_journal")
public func ipt_mod_set_relay_journal(_ text: UnsafePointer<CChar>?, _ length: Int32) -> Int32 {
    configure("relay_journal") { config in
        guard let value = HostText.string(text, length) else { throw ModuleConfigError("modparam 'relay_journal': bad value") }
        try config.setRelayJournal(value)
    }
}

/// modparam `relay_metrics`.
@_cdecl("ipt_mod_set_relay_metrics")
public func ipt_mod_set_relay_metrics(_ text: UnsafePointer<CChar>?, _ length: Int32) -> Int32 {
    configure("relay_metrics") { config in
        guard let value = HostText.string(text, length) else { throw ModuleConfigError("modparam 'relay_metrics': bad value") }
        try config.setRelayMetrics(value)
    }
}

/// modparam `relay_timeout`.
@_cdecl("ipt_mod_set_relay_timeout")
public func ipt_mod_set_relay_timeout(_ milliseconds: Int32) -> Int32 {
    configure("relay_timeout") { config in try config.setRelayTimeout(milliseconds) }
}

/// modparam `relay_keep_sockets`.
@_cdecl("ipt_mod_set_relay_keep_sockets")
public func ipt_mod_set_relay_keep_sockets(_ sessions: Int32) -> Int32 {
    configure("relay_keep_sockets") { config in try config.setKeptSessions(sessions) }
}

/// modparam `relay_probe_interval`.
@_cdecl("ipt_mod_set_relay_probe_interval")
public func ipt_mod_set_relay_probe_interval(_ milliseconds: Int32) -> Int32 {
    configure("relay_probe_interval") { config in try config.setProbeInterval(milliseconds) }
}

/// Module init: fixes the switchboards (embedded, xt) or the media hosts and their shared table
/// (external relays), and says whether the host must fork the relay's process.
@_cdecl("ipt_mod_init")
public func ipt_mod_init(
    _ runtimeDirectory: UnsafePointer<CChar>?, _ runtimeDirectoryLength: Int32,
    _ wantsRelayProcess: UnsafeMutablePointer<Int32>?
) -> Int32 {
    wantsRelayProcess?.pointee = 0
    HostLog.info("iptrtpproxy \(IPTRTPProxyVersion.string) loading")
    let runtimeFolder = HostText.string(runtimeDirectory, runtimeDirectoryLength) ?? ""
    let state = ModuleState.shared
    do {
        let switchboards = try state.configuration.finish()
        state.initPID = getpid()
        let hosts = state.configuration.relays
        if !hosts.isEmpty {
            guard let table = SharedRelayTable(count: hosts.count) else {
                throw ModuleConfigError("cannot map the media hosts' shared table: \(SystemError.text(errno))")
            }
            state.pool = RelayPool(configuration: state.configuration, table: table)
            if let path = state.configuration.configPath {
                HostLog.notice("modparam 'config' ('\(path)') is not read: with external relays the switchboards come from each relay's own cfg file")
            }
            let list = hosts.map { "\($0.id) \($0.address) weight \($0.weight)" }.joined(separator: "; ")
            HostLog.info("media hosts: \(list); switchboards are learned from each host's info")
            return 0
        }
        guard let switchboards else { throw ModuleConfigError("no switchboard configuration") }
        state.switchboards = switchboards
        if state.configuration.plane == .embedded {
            state.embeddedSocketPath = try EmbeddedRelay.socketPath(runtimeDirectory: runtimeFolder, mainPID: getpid())
            state.embeddedJournalPath = EmbeddedRelay.journalPath(state.configuration.relayJournal, runtimeDirectory: runtimeFolder)
            wantsRelayProcess?.pointee = 1
        }
        if case .xt(let path) = state.configuration.plane {
            // As the original's mod_init: the library must load and the kernel must know every
            // switchboard, or the module does not start. Each process opens its own handle later.
            if case .failure(let e) = state.openXTPlane(switchboards, libraryPath: path) { throw e }
        }
        let names = switchboards.all.reversed().map { sw in
            "\(sw.name) (A \(Endpoint(address: sw.gateA.address, port: sw.gateA.basePort)), "
                + "B \(Endpoint(address: sw.gateB.address, port: sw.gateB.basePort)), \(sw.maxSessions) sessions)"
        }
        let relay = state.embeddedSocketPath.map { path in
            "embedded, control socket \(path), journal \(state.embeddedJournalPath ?? "none")"
                + (state.configuration.relayMetrics.map { ", metrics http://\($0)/metrics" } ?? "")
        } ?? "\(state.configuration.plane)"
        HostLog.info("switchboards: \(names.joined(separator: "; ")); relay: \(relay)")
        return 0
    } catch {
        HostLog.error("\(error)")
        return -1
    }
}

/// 1 when the host must fork the prober: a process that asks every media host whether it answers.
@_cdecl("ipt_mod_wants_prober")
public func ipt_mod_wants_prober() -> Int32 {
    ModuleState.shared.pool == nil ? 0 : 1
}

/// Runs one modparam change; logs the reason and returns -1 when it is refused.
private func configure(_ name: String, _ change: (inout ModuleConfiguration) throws -> Void) -> Int32 {
    do {
        try change(&ModuleState.shared.configuration)
        return 0
    } catch {
        HostLog.error("\(error)")
        return -1
    }
}
