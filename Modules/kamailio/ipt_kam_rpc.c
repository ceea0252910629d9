/* ipt_kam_rpc.c — kamcmd iptrtpproxy.list / iptrtpproxy.stats: one reply line per record, as the
 * Swift layer formats them. */
#include <string.h>
#include "ipt_kam.h"
#include "ipt_mod.h"

static void ipt_kam_rpc_lines(kam_rpc_t *rpc, void *ctx, int status, const char *text, int length)
{
	const char *line = text, *end = text + (length > 0 ? length : 0);

	if (status != 1) {
		rpc->fault(ctx, 500, "%.*s", length, text ? text : "");
		return;
	}
	while (text && line < end) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		int n = (int)((nl ? nl : end) - line);
		rpc->rpl_printf(ctx, "%.*s", n, line);
		line += n + 1;
	}
}

static void ipt_kam_rpc_list(kam_rpc_t *rpc, void *ctx)
{
	const char *text = 0;
	int length = 0;
	int status = ipt_mod_report_sessions(&text, &length);
	ipt_kam_rpc_lines(rpc, ctx, status, text, length);
}

static void ipt_kam_rpc_stats(kam_rpc_t *rpc, void *ctx)
{
	const char *text = 0;
	int length = 0;
	int status = ipt_mod_report_stats(&text, &length);
	ipt_kam_rpc_lines(rpc, ctx, status, text, length);
}

static void ipt_kam_rpc_relays(kam_rpc_t *rpc, void *ctx)
{
	const char *text = 0;
	int length = 0;
	int status = ipt_mod_report_relays(&text, &length);
	ipt_kam_rpc_lines(rpc, ctx, status, text, length);
}

static const char *ipt_kam_rpc_relays_doc[] = {
	"The media hosts: id, address, weight, up/down and since when, sessions, calls allocated, failures, last error.", 0};
static const char *ipt_kam_rpc_list_doc[] = {"List the relay's sessions: switchboard, id, created, ports, packets.", 0};
static const char *ipt_kam_rpc_stats_doc[] = {"Relay statistics per switchboard and in total.", 0};

kam_rpc_export_t ipt_kam_rpc_methods[] = {
	{"iptrtpproxy.list", ipt_kam_rpc_list, ipt_kam_rpc_list_doc, 0},
	{"iptrtpproxy.stats", ipt_kam_rpc_stats, ipt_kam_rpc_stats_doc, 0},
	{"iptrtpproxy.relays", ipt_kam_rpc_relays, ipt_kam_rpc_relays_doc, 0},
	{0, 0, 0, 0}
};
