/// The exit statuses every binary of the project ends with, from sysexits(3) where one fits, so a
/// script or a systemd unit tells a bad command line from a bad file from a relay that is away.
public enum ExitStatus: Int32, Sendable {
    /// Done; for the CLI's function subcommands: the function returned 1.
    case success = 0
    /// A failure while running (the daemon cannot bind or start; a relay answered with an error);
    /// for the CLI's function subcommands: the function returned -1, as the module's would.
    case failure = 1
    /// EX_USAGE: the command line is wrong (unknown or missing option, a value out of range).
    case usage = 64
    /// EX_UNAVAILABLE: the relay named by `--control` cannot be reached or does not answer.
    case unavailable = 69
    /// EX_CONFIG: a file the command line names (switchboards, secret, TLS, state) cannot be read or is wrong.
    case configuration = 78
}
