/*
 * ipt_mod.h — the host-neutral C ABI of the iptrtpproxy module (implemented in Swift, this folder).
 *
 * A SIP proxy's module glue (Modules/kamailio/ for Kamailio) calls these functions; it never sees
 * Swift. Every string crosses as pointer + length (proxies keep strings without a terminating NUL),
 * every function validates its arguments and returns a status instead of failing, and no Swift
 * error or trap crosses back into the host.
 *
 * Process model: the host loads the module into its main process (configuration phase), then
 * forks workers. State kept here is per process; the media plane is shared through the relay.
 */
#ifndef IPT_MOD_H
#define IPT_MOD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Log levels passed to the host's log sink. */
enum ipt_mod_log_level {
	IPT_MOD_LOG_ERROR = 0,
	IPT_MOD_LOG_WARNING = 1,
	IPT_MOD_LOG_NOTICE = 2,
	IPT_MOD_LOG_INFO = 3,
	IPT_MOD_LOG_DEBUG = 4
};

/* Where the module's log lines go: `message` is NUL-terminated and `length` bytes long. */
typedef void (*ipt_mod_log_sink_t)(int level, const char *message, int length);

/* Whether the host writes lines of `level` now (1) or drops them (0); asked before a line is
 * formatted, as the host's levels may change at run time. */
typedef int (*ipt_mod_log_enabled_t)(int level);

/* The values of the @iptrtpproxy.* selects. */
enum ipt_mod_select {
	IPT_MOD_SELECT_SESSION_IDS = 0,
	IPT_MOD_SELECT_SDP_IP = 1,
	IPT_MOD_SELECT_SWITCHBOARD = 2,
	IPT_MOD_SELECT_DIRECTION = 3
};

/* Return values of the configuration and lifecycle calls. */
#define IPT_MOD_OK 0
#define IPT_MOD_FAILED (-1)

/* ---- configuration phase (host main process, before any fork) ---- */

/* Installs the log sink; lines logged before it is set are dropped. */
void ipt_mod_set_log_sink(ipt_mod_log_sink_t sink);

/* Installs the level check (optional): lines of a level the host drops are then not even
 * formatted. Without it every line is handed to the sink, which may drop it. */
void ipt_mod_set_log_enabled(ipt_mod_log_enabled_t enabled);

/* modparam `config`: reads the switchboards from this file now. Once only, never after `switchboard`. */
int ipt_mod_set_config(const char *path, int length);

/* modparam `switchboard` (repeatable): `name=NAME|*;learning-timeout-a=..;...`. */
int ipt_mod_add_switchboard_param(const char *text, int length);

/* modparam `relay` (repeatable for media hosts): `embedded` (default), `xt[:/path]`, or one media
 * host per line: `unix:/path`, `tcp:ADDRESS:PORT` or `tls:HOST:PORT`, each with optional
 * `;weight=N;secret=S;id=NAME`. `embedded` and `xt` cannot be mixed with other lines. */
int ipt_mod_set_relay(const char *text, int length);

/* modparam `relay_secret`: the shared secret that answers a TCP or TLS relay's challenge (for every
 * media host without a `secret=` of its own). */
int ipt_mod_set_relay_secret(const char *text, int length);

/* modparams `relay_tls_ca`, `relay_tls_cert`, `relay_tls_key`: PEM files for a `tls:` relay (the
   CA that signed its certificate; a client certificate and key where the relay asks for one). */
int ipt_mod_set_relay_tls_ca(const char *text, int length);
int ipt_mod_set_relay_tls_cert(const char *text, int length);
int ipt_mod_set_relay_tls_key(const char *text, int length);

/* modparam `relay_journal`: the embedded relay's session journal (absolute path; default
 * iptrtpproxy.journal in the runtime folder; empty: none); with it, calls keep their relay sessions
 * across a restart of the proxy and of the relay. */
int ipt_mod_set_relay_journal(const char *text, int length);

/* modparam `relay_metrics`: ADDRESS:PORT ([IPv6]:PORT) where the embedded relay serves Prometheus
 * metrics (GET /metrics); empty: nowhere (default). */
int ipt_mod_set_relay_metrics(const char *text, int length);

/* modparam `relay_timeout`: longest wait for the relay, in milliseconds (10-60000, default 1000). */
int ipt_mod_set_relay_timeout(int milliseconds);

/* modparam `relay_keep_sockets`: freed sessions whose four sockets the embedded relay keeps bound
 * for the next session on the same ports (0: closed on delete; default: every slot, while live and
 * kept sessions hold at most three quarters of the file limit). */
int ipt_mod_set_relay_keep_sockets(int sessions);

/* modparam `relay_probe_interval`: how often the prober asks every media host whether it answers,
 * in milliseconds (100-600000, default 1000). */
int ipt_mod_set_relay_probe_interval(int milliseconds);

/* Module init: finishes the configuration (reads the default cfg file if none was read).
 * `runtime_directory` is the host's private folder, where the embedded relay's control socket goes.
 * Sets *wants_relay_process to 1 when the host must fork one helper process for the embedded relay's
 * supervisor (ipt_mod_run_supervisor). */
int ipt_mod_init(const char *runtime_directory, int runtime_directory_length, int *wants_relay_process);

/* ---- the embedded relay's supervisor process ---- */

/* Runs the supervisor in the calling (freshly forked, single-threaded) process: it forks the relay
 * as its own child, outside the host's process table (the relay starts its threads there), starts
 * it again after any death with a bounded rate, and ends it when the host stops or its main process
 * is gone. Returns the exit code for the process: 0 when stopped, 1 when the first relay could not
 * start (the host then shuts down). */
int ipt_mod_run_supervisor(void);

/* ---- the media hosts' prober process ---- */

/* After module init: 1 when the host must fork one more helper process, the prober (external
 * relays), 0 otherwise. */
int ipt_mod_wants_prober(void);

/* Runs the prober in the calling (freshly forked) process: asks every media host whether it
 * answers, marks it up or down for every process of the host. Returns when the host's main
 * process is gone, or at once when there is nothing to probe; the host then ends the process. */
int ipt_mod_run_prober(void);

/* ---- the events process (expired sessions reach the script) ---- */

/* After module init: 1 when there are relays whose events the host can subscribe to (the
 * embedded relay or media hosts), 0 otherwise (xt). The host forks the events process only when
 * this says 1 and its script has a route for the event. */
int ipt_mod_wants_events(void);

/* Called once per session a relay freed for lack of media, with the session's ids in the module's
 * format (`switchboard[@host]:ID/CREATED`, `length` bytes, NUL-terminated); the select
 * IPT_MOD_SELECT_SESSION_IDS holds the same text during the call. It may run the host's script. */
typedef int (*ipt_mod_event_handler_t)(const char *session_ids, int length);

/* Runs the events loop in the calling (freshly forked) process: subscribes to every relay (again
 * whenever one went away) and calls `handler` for every expired session. Returns when the host's
 * main process is gone, or at once when there is nothing to subscribe to. */
int ipt_mod_run_events(ipt_mod_event_handler_t handler);

/* ---- worker processes ---- */

/* Called in every process the host forks (workers, timers, ...; not in the main process), after
 * the fork; `rank` is the host's process rank. Ties the process to the main process (parent-death
 * signal): it ends when the main process ends, however that ends. */
int ipt_mod_child_init(int rank);

/* Clears the selects; the host calls it before each script run. */
void ipt_mod_reset_selects(void);

/* Reads a select: returns 1 and sets *value / *length (valid until the next ipt_mod_ call in this
 * process), or 0 when the select has no value. */
int ipt_mod_get_select(int which, const char **value, int *length);

/* Puts a rewritten body into the host's message: `context` is what the host passed to alloc or
 * update, `body` (`length` bytes) is valid during the call only. Returns 0 when the message took the
 * body, -1 when it could not (the sink logs why). It must not call any ipt_mod_ function. */
typedef int (*ipt_mod_body_sink_t)(void *context, const char *body, int length);

/* Return values of an edit sink. */
#define IPT_MOD_EDIT_OK 0
#define IPT_MOD_EDIT_FAILED (-1)  /* the message could not take it (out of memory, say) */
#define IPT_MOD_EDIT_OVERLAP (-2) /* another change of the message (another module's, or an earlier
                                     alloc/update of this message) covers these bytes */

/* Changes one token of the host's message: the `length` bytes at `offset` of the ORIGINAL message
 * body (as passed to alloc or update) become `text` (`text_length` bytes, valid during the call
 * only; NULL when 0); `length` 0 is a pure insertion at `offset`. alloc and update call it once per
 * rewritten token or inserted line, in increasing offset order, ranges never overlapping. The sink
 * logs nothing: the caller logs the one line of a failure. It must not call any ipt_mod_ function. */
typedef int (*ipt_mod_edit_sink_t)(void *context, int offset, int length, const char *text, int text_length);

/* Takes back every edit the edit sink took since alloc or update was called, so that the message is
 * as it was. Called once when an edit was refused; never after all edits were taken. */
typedef void (*ipt_mod_undo_sink_t)(void *context);

/* The five script functions. Each returns 1 (true) or -1 (false), never 0, and logs one line on
 * failure. `body`/`content_type` describe the message (content_type NULL: no Content-Type header).
 * alloc and update decide their whole outcome: when the SDP was rewritten they hand the rewrite to
 * the host (with `context`): token by token to `put_edit` when it is not NULL (then `undo_edits` is
 * required; a refused edit makes them call `undo_edits`), or else the whole new body to `put_body`.
 * When the message does not take the rewrite (or the body is too large) they free the sessions they
 * allocated, restore the selects and return -1, so that nothing is left allocated and the message
 * stays as it was. The host undoes nothing itself beyond `undo_edits`.
 * `source_ip` is the address the message came from as the host received it (Kamailio's $si), in
 * network byte order, `source_ip_length` 4 (IPv4) or 16 (IPv6) bytes, or NULL/0 when unknown: the
 * relay latches the media of the message's side only from this host or from the SDP's address.
 * `sip_message` is the whole message as received (`message_length` bytes; NULL/0 when the host has
 * none): its Call-ID and From tag name the sessions in the relay's reports and log lines. */
int ipt_mod_alloc(int flags, const char *switchboard, int switchboard_length,
		const unsigned char *source_ip, int source_ip_length,
		const char *sip_message, int sip_message_length,
		const char *body, int body_length, const char *content_type, int content_type_length,
		ipt_mod_body_sink_t put_body, ipt_mod_edit_sink_t put_edit, ipt_mod_undo_sink_t undo_edits,
		void *context);
int ipt_mod_update(int flags, const char *session_ids, int session_ids_length,
		const unsigned char *source_ip, int source_ip_length,
		const char *sip_message, int sip_message_length,
		const char *body, int body_length, const char *content_type, int content_type_length,
		ipt_mod_body_sink_t put_body, ipt_mod_edit_sink_t put_edit, ipt_mod_undo_sink_t undo_edits,
		void *context);
int ipt_mod_adjust_timeout(int flags, const char *session_ids, int session_ids_length,
		const unsigned char *source_ip, int source_ip_length);
int ipt_mod_delete(const char *session_ids, int session_ids_length);
int ipt_mod_find(const char *gate_a, int gate_a_length, const char *gate_b, int gate_b_length);

/* The host shuts down (main process): removes what the module left on disk. */
void ipt_mod_destroy(void);

/* ---- management (RPC) ---- */

/* An RPC command answers with a tree (objects with named members, arrays, numbers, text) that the
 * module hands to the host node by node, in pre-order, through these callbacks; `context` is the
 * host's, passed through. Each node goes under `parent` (NULL: the reply itself) with `name`
 * (NUL-terminated; NULL for an element of an array or the reply's top value). The glue maps each
 * call to one call of the host's RPC API (Kamailio: rpc->add, struct_add, array_add).
 * `open` starts an object (`array` 0) or an array (`array` 1) and returns its handle, NULL when the
 * host refused; `number` and `text` (`length` bytes, not NULL) return 0 when the host took the value.
 * After a refusal the module writes nothing more and answers with a fault (500). */
typedef void *(*ipt_mod_rpc_open_t)(void *context, void *parent, const char *name, int array);
typedef int (*ipt_mod_rpc_number_t)(void *context, void *parent, const char *name, int64_t value);
typedef int (*ipt_mod_rpc_text_t)(void *context, void *parent, const char *name, const char *text, int length);

/* The RPC commands. `parameters` holds `count` texts of `lengths` bytes each, as the host read
 * them (numbers converted to text); a negative `count` says the host met a parameter it could not
 * read as text. Each returns 0 when it wrote its answer, or else the code of the RPC fault to send
 * (400 bad parameters, 500 the answer could not be written, 501 not available with this relay,
 * 503 no relay answered) and sets *fault / *fault_length to its one line (valid until the next
 * ipt_mod_ call).
 *   ipt_mod_rpc_list   iptrtpproxy.list [OFFSET [LIMIT [SWITCHBOARD]]]: {total, offset, limit,
 *                      count, sessions: [one record per session], errors: [text]}
 *   ipt_mod_rpc_stats  iptrtpproxy.stats [SWITCHBOARD]: an object of numbers (+ switchboards, hosts)
 *   ipt_mod_rpc_relays iptrtpproxy.relays: [one record per media host] */
int ipt_mod_rpc_list(const char *const *parameters, const int *lengths, int count,
		ipt_mod_rpc_open_t open, ipt_mod_rpc_number_t number, ipt_mod_rpc_text_t text, void *context,
		const char **fault, int *fault_length);
int ipt_mod_rpc_stats(const char *const *parameters, const int *lengths, int count,
		ipt_mod_rpc_open_t open, ipt_mod_rpc_number_t number, ipt_mod_rpc_text_t text, void *context,
		const char **fault, int *fault_length);
int ipt_mod_rpc_relays(const char *const *parameters, const int *lengths, int count,
		ipt_mod_rpc_open_t open, ipt_mod_rpc_number_t number, ipt_mod_rpc_text_t text, void *context,
		const char **fault, int *fault_length);

#ifdef __cplusplus
}
#endif

#endif /* IPT_MOD_H */
