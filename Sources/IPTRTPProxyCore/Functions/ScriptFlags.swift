/// The `flags` parameter of alloc, update and adjust_timeout (spec §3).
public struct ScriptFlags: Hashable, Sendable {
    /// The number as the script passed it.
    public var rawValue: Int

    /// Wraps a script value.
    public init(_ rawValue: Int) { self.rawValue = rawValue }

    /// Bit 0: the SDP comes from the client on gate A's side (A→B); clear: from gate B's side.
    public var sdpSide: GateSide { rawValue & 1 != 0 ? .a : .b }

    /// The gate whose address and ports are written into the SDP: the one facing the SDP's reader.
    public var rewriteSide: GateSide { sdpSide.opposite }

    /// Bit 1: the call is ringing; use the switchboard's ringing timeout as the learning timeout.
    public var ringing: Bool { rawValue & 2 != 0 }
}
