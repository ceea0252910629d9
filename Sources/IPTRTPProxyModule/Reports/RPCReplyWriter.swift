/// `ipt_mod_rpc_open_t`: opens an object (`array` 0) or array (1) under a parent (nil: the reply)
/// with a member name (nil: an element or the top value); returns its handle, or nil when refused.
public typealias HostRPCOpen = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int32) -> UnsafeMutableRawPointer?
/// `ipt_mod_rpc_number_t`: adds a number; 0 when the host took it.
public typealias HostRPCNumber = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafePointer<CChar>?, Int64) -> Int32
/// `ipt_mod_rpc_text_t`: adds text (pointer + length, never null); 0 when the host took it.
public typealias HostRPCText = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafePointer<CChar>?, Int32) -> Int32

/// Hands an `RPCValue` tree to the host's RPC reply, node by node, through three callbacks of the
/// glue (`ipt_mod_rpc_open_t`, `ipt_mod_rpc_number_t`, `ipt_mod_rpc_text_t` in ipt_mod.h). Each
/// node goes under a parent handle (nil: the reply itself) with its member name (nil: an element
/// of an array, or the reply's top value). The glue maps each call to one call of the host's RPC
/// API and decides nothing.
struct RPCReplyWriter {
    let open: HostRPCOpen
    let number: HostRPCNumber
    let text: HostRPCText
    /// The glue's own context (its RPC handle), passed back to every callback.
    let context: UnsafeMutableRawPointer?

    /// Writes `value` as the whole reply. Returns nil when the host took every node, or the
    /// 1-based number (in pre-order) of the node it refused; nothing is written after it.
    func write(_ value: RPCValue) -> Int? {
        var written = 0
        return put(value, under: nil, named: nil, &written) ? nil : written + 1
    }

    private func put(_ value: RPCValue, under parent: UnsafeMutableRawPointer?, named name: String?, _ written: inout Int) -> Bool {
        let took: Bool
        var children: [(String?, RPCValue)] = []
        var handle: UnsafeMutableRawPointer?
        switch value {
        case .object(let members):
            handle = withName(name) { open(context, parent, $0, 0) }
            took = handle != nil
            children = members.map { ($0.name, $0.value) }
        case .array(let elements):
            handle = withName(name) { open(context, parent, $0, 1) }
            took = handle != nil
            children = elements.map { (nil, $0) }
        case .number(let n):
            took = withName(name) { number(context, parent, $0, n) } == 0
        case .text(let t):
            // withCString: never a null pointer, not even for "" (the host would show "<null string>").
            took = withName(name) { n in t.withCString { text(context, parent, n, $0, Int32(clamping: t.utf8.count)) } } == 0
        }
        guard took else { return false }
        written += 1
        for (childName, child) in children where !put(child, under: handle, named: childName, &written) { return false }
        return true
    }

    private func withName<R>(_ name: String?, _ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let name else { return body(nil) }
        return name.withCString(body)
    }
}
