/* ipt_kam_module.c — the Kamailio module: what the core looks up when it loads iptrtpproxy.so
 * (version, flags, exports, mod_register), the modparams, and the process lifecycle (module init,
 * the embedded relay's supervisor, the prober and events processes, worker init). The work itself is in the Swift layer
 * behind ipt_mod.h. Built with -fvisibility=hidden: only the four symbols marked IPT_KAM_EXPORT
 * are visible to the core. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ipt_kam.h"
#include "ipt_kam_log.h"
#include "ipt_mod.h"

#define IPT_KAM_EXPORT __attribute__((visibility("default")))

/* The core compares these with its own strings and refuses a module built for another version. */
IPT_KAM_EXPORT char *module_version = IPT_KAM_VERSION;
IPT_KAM_EXPORT char *module_flags = IPT_KAM_FLAGS;

static int ipt_kam_wants_relay_process;
static int ipt_kam_wants_prober;
/* event_route[iptrtpproxy:timeout] of the script, -1 when it has none (then no events process). */
static int ipt_kam_timeout_route = -1;

static int ipt_kam_param_config(unsigned int type, void *value)
{
	const char *s = value;
	(void)type;
	return s ? ipt_mod_set_config(s, (int)strlen(s)) : -1;
}

static int ipt_kam_param_switchboard(unsigned int type, void *value)
{
	const char *s = value;
	(void)type;
	return s ? ipt_mod_add_switchboard_param(s, (int)strlen(s)) : -1;
}

static int ipt_kam_param_relay(unsigned int type, void *value)
{
	const char *s = value;
	(void)type;
	return s ? ipt_mod_set_relay(s, (int)strlen(s)) : -1;
}

static int ipt_kam_param_relay_secret(unsigned int type, void *value)
{
	const char *s = value;
	(void)type;
	return s ? ipt_mod_set_relay_secret(s, (int)strlen(s)) : -1;
}

static int ipt_kam_param_relay_tls_ca(unsigned int type, void *value)
{
	const char *s = value;
	(void)type;
	return s ? ipt_mod_set_relay_tls_ca(s, (int)strlen(s)) : -1;
}

static int ipt_kam_param_relay_tls_cert(unsigned int type, void *value)
{
	const char *s = value;
	(void)type;
	return s ? ipt_mod_set_relay_tls_cert(s, (int)strlen(s)) : -1;
}

static int ipt_kam_param_relay_tls_key(unsigned int type, void *value)
{
	const char *s = value;
	(void)type;
	return s ? ipt_mod_set_relay_tls_key(s, (int)strlen(s)) : -1;
}

static int ipt_kam_param_relay_journal(unsigned int type, void *value)
{
	const char *s = value;
	(void)type;
	return s ? ipt_mod_set_relay_journal(s, (int)strlen(s)) : -1;
}

static int ipt_kam_param_relay_metrics(unsigned int type, void *value)
{
	const char *s = value;
	(void)type;
	return s ? ipt_mod_set_relay_metrics(s, (int)strlen(s)) : -1;
}

static int ipt_kam_param_relay_timeout(unsigned int type, void *value)
{
	(void)type;
	return ipt_mod_set_relay_timeout((int)(long)value);
}

static int ipt_kam_param_relay_probe_interval(unsigned int type, void *value)
{
	(void)type;
	return ipt_mod_set_relay_probe_interval((int)(long)value);
}

static int ipt_kam_param_relay_keep_sockets(unsigned int type, void *value)
{
	(void)type;
	return ipt_mod_set_relay_keep_sockets((int)(long)value);
}

static kam_param_export_t ipt_kam_params[] = {
	{"config", KAM_PARAM_STRING | KAM_PARAM_USE_FUNC, (void *)ipt_kam_param_config},
	{"switchboard", KAM_PARAM_STRING | KAM_PARAM_USE_FUNC, (void *)ipt_kam_param_switchboard},
	{"relay", KAM_PARAM_STRING | KAM_PARAM_USE_FUNC, (void *)ipt_kam_param_relay},
	{"relay_secret", KAM_PARAM_STRING | KAM_PARAM_USE_FUNC, (void *)ipt_kam_param_relay_secret},
	{"relay_journal", KAM_PARAM_STRING | KAM_PARAM_USE_FUNC, (void *)ipt_kam_param_relay_journal},
	{"relay_metrics", KAM_PARAM_STRING | KAM_PARAM_USE_FUNC, (void *)ipt_kam_param_relay_metrics},
	{"relay_tls_ca", KAM_PARAM_STRING | KAM_PARAM_USE_FUNC, (void *)ipt_kam_param_relay_tls_ca},
	{"relay_tls_cert", KAM_PARAM_STRING | KAM_PARAM_USE_FUNC, (void *)ipt_kam_param_relay_tls_cert},
	{"relay_tls_key", KAM_PARAM_STRING | KAM_PARAM_USE_FUNC, (void *)ipt_kam_param_relay_tls_key},
	{"relay_timeout", KAM_PARAM_INT | KAM_PARAM_USE_FUNC, (void *)ipt_kam_param_relay_timeout},
	{"relay_keep_sockets", KAM_PARAM_INT | KAM_PARAM_USE_FUNC, (void *)ipt_kam_param_relay_keep_sockets},
	{"relay_probe_interval", KAM_PARAM_INT | KAM_PARAM_USE_FUNC, (void *)ipt_kam_param_relay_probe_interval},
	{0, 0, 0}
};

static int ipt_kam_mod_init(void)
{
	const char *dir = runtime_dir ? runtime_dir : "";

	if (ipt_mod_init(dir, (int)strlen(dir), &ipt_kam_wants_relay_process) != IPT_MOD_OK)
		return -1;
	if (register_script_cb(ipt_kam_reset_selects,
				KAM_PRE_SCRIPT_CB | KAM_REQUEST_CB | KAM_FAILURE_CB | KAM_ONREPLY_CB | KAM_BRANCH_CB, 0)
			< 0) {
		IPT_ERR("cannot register the pre-script callback that resets the selects");
		return -1;
	}
	if (ipt_kam_wants_relay_process) {
		/* One extra process, the embedded relay's supervisor, forked in child_init(PROC_MAIN); the
		 * relay is the supervisor's own child, not in the core's process table. */
		register_procs(1);
		cfg_register_child(1);
	}
	ipt_kam_timeout_route = route_lookup(&event_rt, "iptrtpproxy:timeout");
	if (ipt_kam_timeout_route >= 0 && event_rt.rlist[ipt_kam_timeout_route] == NULL)
		ipt_kam_timeout_route = -1;
	if (ipt_kam_timeout_route >= 0 && ipt_mod_wants_events()) {
		/* One extra process that subscribes to the relays and runs the event route. */
		register_procs(1);
		cfg_register_child(1);
	} else {
		ipt_kam_timeout_route = -1;
	}
	ipt_kam_wants_prober = ipt_mod_wants_prober();
	if (ipt_kam_wants_prober) {
		/* One extra process that probes the media hosts (never a SIP worker). */
		register_procs(1);
		cfg_register_child(1);
	}
	return 0;
}

/* Forks the prober: it asks every media host whether it answers and marks it up or down for
 * every process. It ends when the main process is gone. */
static int ipt_kam_fork_prober(void)
{
	int pid = fork_process(KAM_PROC_NOCHLDINIT, "iptrtpproxy prober", 1);
	if (pid < 0) {
		IPT_ERR("cannot fork the media hosts' prober process");
		return -1;
	}
	if (pid == 0) {
		if (cfg_child_init() != 0) {
			IPT_ERR("prober: cfg_child_init failed");
			exit(-1);
		}
		ipt_mod_run_prober();
		exit(0);
	}
	return 0;
}

/* Runs event_route[iptrtpproxy:timeout] for one session the relay freed for lack of media, with a
 * faked message (as the core's own event routes do); @iptrtpproxy.session_ids holds its ids. */
static int ipt_kam_run_timeout_route(const char *session_ids, int length)
{
	struct sip_msg *fmsg;
	int backup;

	if (ipt_kam_timeout_route < 0)
		return -1;
	if (faked_msg_init() < 0) {
		IPT_ERR("events: cannot make the faked message for event_route[iptrtpproxy:timeout] (%.*s)", length, session_ids);
		return -1;
	}
	fmsg = faked_msg_next();
	backup = route_type;
	route_type = KAM_EVENT_ROUTE;
	run_top_route(event_rt.rlist[ipt_kam_timeout_route], fmsg, 0);
	route_type = backup;
	return 0;
}

/* Forks the events process: it subscribes to the relays and runs event_route[iptrtpproxy:timeout]
 * for each session they free for lack of media. It has the rank of a timer process, so that the
 * modules its route calls (tm, dialog) are initialised in it. It ends when the main process is gone. */
static int ipt_kam_fork_events(void)
{
	int pid = fork_process(KAM_PROC_TIMER, "iptrtpproxy events", 1);
	if (pid < 0) {
		IPT_ERR("cannot fork the events process");
		return -1;
	}
	if (pid == 0) {
		if (cfg_child_init() != 0) {
			IPT_ERR("events: cfg_child_init failed");
			exit(-1);
		}
		ipt_mod_run_events(ipt_kam_run_timeout_route);
		exit(0);
	}
	return 0;
}

/* Forks the embedded relay's supervisor. The supervisor forks the relay as a plain child of its
 * own: the core ends the whole proxy when one of the main process's children dies, and the relay
 * is not one of them, so a relay crash costs a restart, not the proxy. The relay starts its threads
 * only there, after the forks, so that the proxy's own processes stay single-threaded. The
 * supervisor ends (and the core with it) only when the very first relay could not start. */
static int ipt_kam_fork_supervisor(void)
{
	int pid = fork_process(KAM_PROC_NOCHLDINIT, "iptrtpproxy supervisor", 0);
	if (pid < 0) {
		IPT_ERR("cannot fork the embedded relay's supervisor process");
		return -1;
	}
	if (pid == 0) {
		if (cfg_child_init() != 0) {
			IPT_ERR("embedded relay's supervisor: cfg_child_init failed");
			exit(-1);
		}
		exit(ipt_mod_run_supervisor());
	}
	return 0;
}

static int ipt_kam_child_init(int rank)
{
	if (rank == KAM_PROC_MAIN) {
		if (ipt_kam_wants_relay_process && ipt_kam_fork_supervisor() < 0)
			return -1;
		if (ipt_kam_wants_prober && ipt_kam_fork_prober() < 0)
			return -1;
		if (ipt_kam_timeout_route >= 0 && ipt_kam_fork_events() < 0)
			return -1;
		return 0;
	}
	/* These ranks run in the main process itself. */
	if (rank == KAM_PROC_INIT || rank == KAM_PROC_POSTCHILDINIT)
		return 0;
	/* Every forked process (workers, timers, tcp main, ...): tied to the main process. */
	return ipt_mod_child_init(rank) == IPT_MOD_OK ? 0 : -1;
}

static void ipt_kam_destroy(void)
{
	ipt_mod_destroy();
}

IPT_KAM_EXPORT kam_module_exports_t exports = {
	"iptrtpproxy",
	0,                     /* dlflags: default */
	ipt_kam_cmds,
	ipt_kam_params,
	ipt_kam_rpc_methods,
	0,                     /* pseudo-variables: none (selects are registered in mod_register) */
	0,                     /* response function */
	ipt_kam_mod_init,
	ipt_kam_child_init,
	ipt_kam_destroy
};

/* The module reads the core's structures at offsets verified for the one version it was built
 * for (kam56.h), so it runs in that version only, patch level included. The core's own check of
 * module_version says the same today; this one does not depend on the core's policy, and says why. */
static int ipt_kam_check_version(const char *path)
{
	if (strcmp(ver_version, IPT_KAM_BUILT_FOR) == 0)
		return 0;
	IPT_ERR("%s was built for Kamailio %s and this is Kamailio %s: refusing to load (the module reads "
		"the core's structures as Kamailio %s lays them out); rebuild it against this Kamailio (make build)",
		path ? path : "iptrtpproxy.so", IPT_KAM_BUILT_FOR, ver_version, IPT_KAM_BUILT_FOR);
	return -1;
}

/* Called right after dlopen, before the script's modparams: checks the core's version, installs
 * the log sink and registers the selects, which `$sel(...)` in the script resolves while the
 * script is parsed. */
IPT_KAM_EXPORT int mod_register(char *path, int *dlflags, void *p1, void *p2)
{
	(void)dlflags;
	(void)p1;
	(void)p2;
	if (ipt_kam_check_version(path) < 0)
		return -1;
	ipt_mod_set_log_sink(ipt_kam_log_sink);
	ipt_mod_set_log_enabled(ipt_kam_log_enabled);
	return ipt_kam_register_selects();
}
