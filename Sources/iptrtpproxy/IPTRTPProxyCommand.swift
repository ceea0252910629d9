import ArgumentParser
import IPTRTPProxyCore

/// `iptrtpproxy`: runs the module's five functions on SDP, and talks to a running relay.
@main
struct IPTRTPProxyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "iptrtpproxy",
        abstract: "Rewrite SDP through iptrtpproxy switchboards, and inspect a running relay.",
        discussion: """
            The function subcommands read a SIP message body (SDP, or a multipart body with \
            --content-type) on standard input and behave exactly like the Kamailio module's \
            script functions: the rewritten SDP goes to standard output, the select values to \
            standard error (or everything as one JSON object with --json).

            Exit status: 0 when the function returns 1 (or the command succeeded), 1 when it \
            returns -1 (or the relay answered with an error), 64 for a bad command line, 69 when \
            the relay of --control cannot be reached, 78 when a file it names (--config, \
            --secret-file, --state, TLS files) cannot be read or is wrong.

            With --control the functions go to a running relay (iptrtpproxyd, or the relay \
            embedded in the Kamailio module), and info, list and stats show its state.

            Examples:
              iptrtpproxy alloc --config iptrtpproxy.cfg --switchboard pub --flags 3 \\
                  --state /tmp/ipt.state < offer.sdp
              iptrtpproxy alloc --control unix:/run/iptrtpproxy/control.sock --switchboard pub \\
                  --flags 3 --json < offer.sdp
              iptrtpproxy list --control unix:/run/iptrtpproxy/control.sock --detailed
            """,
        version: IPTRTPProxyVersion.string,
        subcommands: [
            AllocCommand.self, UpdateCommand.self, AdjustTimeoutCommand.self, DeleteCommand.self,
            FindCommand.self, InfoCommand.self, ListCommand.self, StatsCommand.self,
        ]
    )
}
