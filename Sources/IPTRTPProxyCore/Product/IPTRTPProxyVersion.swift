/// The project's one version string: `--version` of every binary, the Debian package's version
/// (`make deb` reads it from `iptrtpproxy --version`), and the line the Kamailio module logs at load.
public enum IPTRTPProxyVersion {
    /// Semantic version of this source tree; raise it here and nowhere else.
    public static let string = "1.0.0"
}
