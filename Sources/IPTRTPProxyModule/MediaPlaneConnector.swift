import Glibc
import IPTRTPProxyCore

/// Makes the media plane a worker talks to, from the `relay` modparam.
enum MediaPlaneConnector {
    /// The plane for `setting`.
    static func connect(_ setting: RelaySetting, switchboards: SwitchboardSet) -> Result<MediaPlane, ModuleConfigError> {
        // TEMPORARY until the relay engine and its control client land: every setting allocates
        // in this process without forwarding, which is only coherent with one worker (children=1).
        .success(InProcessMediaPlane(switchboards: switchboards, clock: { UInt32(truncatingIfNeeded: time(nil)) }))
    }
}
