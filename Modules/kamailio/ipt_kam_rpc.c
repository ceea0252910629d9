/* ipt_kam_rpc.c — the RPC commands (kamcmd, JSON-RPC): the parameters go to Swift as text, the
 * answer comes back as a tree, node by node, and each node becomes one call of Kamailio's rpc API
 * (rpc->add for the reply's top value, struct_add for a member, array_add for an element), so every
 * transport gets fields. Swift decides the answer and its faults; nothing is decided here. */
#include <limits.h>
#include <string.h>
#include "ipt_kam.h"
#include "ipt_mod.h"

/* One more than any command takes, so that Swift sees (and refuses) one too many. */
#define IPT_KAM_RPC_MAX_PARAMETERS 4
/* Parameters shorter than this are copied (numbers converted to text are). */
#define IPT_KAM_RPC_COPY 64

typedef struct ipt_kam_rpc_reply {
	kam_rpc_t *rpc;
	void *ctx;
} ipt_kam_rpc_reply_t;

typedef int (*ipt_kam_rpc_command_t)(const char *const *parameters, const int *lengths, int count,
		ipt_mod_rpc_open_t open, ipt_mod_rpc_number_t number, ipt_mod_rpc_text_t text, void *context,
		const char **fault, int *fault_length);

static void *ipt_kam_rpc_open(void *context, void *parent, const char *name, int array)
{
	ipt_kam_rpc_reply_t *r = context;
	char *format = array ? "[" : "{";
	void *handle = 0;
	int status = !parent ? r->rpc->add(r->ctx, format, &handle)
			: name ? r->rpc->struct_add(parent, format, name, &handle)
				   : r->rpc->array_add(parent, format, &handle);
	return status < 0 ? 0 : handle;
}

static int ipt_kam_rpc_number(void *context, void *parent, const char *name, int64_t value)
{
	ipt_kam_rpc_reply_t *r = context;
	/* Kamailio's "d" is an int; "L" (long long) travels as a double in binrpc, so only where needed. */
	if (value >= INT_MIN && value <= INT_MAX) {
		int n = (int)value;
		return !parent ? r->rpc->add(r->ctx, "d", n)
			: name ? r->rpc->struct_add(parent, "d", name, n) : r->rpc->array_add(parent, "d", n);
	}
	return !parent ? r->rpc->add(r->ctx, "L", (long long)value)
		: name ? r->rpc->struct_add(parent, "L", name, (long long)value) : r->rpc->array_add(parent, "L", (long long)value);
}

static int ipt_kam_rpc_text(void *context, void *parent, const char *name, const char *text, int length)
{
	ipt_kam_rpc_reply_t *r = context;
	kam_str_t s = {(char *)text, length};
	return !parent ? r->rpc->add(r->ctx, "S", &s)
		: name ? r->rpc->struct_add(parent, "S", name, &s) : r->rpc->array_add(parent, "S", &s);
}

static void ipt_kam_rpc_answer(kam_rpc_t *rpc, void *ctx, ipt_kam_rpc_command_t command)
{
	char copies[IPT_KAM_RPC_MAX_PARAMETERS][IPT_KAM_RPC_COPY];
	const char *texts[IPT_KAM_RPC_MAX_PARAMETERS];
	int lengths[IPT_KAM_RPC_MAX_PARAMETERS];
	ipt_kam_rpc_reply_t reply = {rpc, ctx};
	const char *fault = 0;
	int fault_length = 0, count, code;

	/* Each parameter is optional and converted to text ("."), so numbers and strings alike reach
	 * Swift as text. jsonrpcs converts a number into one static buffer (int2str), so parameters
	 * are read one at a time and a short one is copied before the next is read; a long one is a
	 * string of the request itself and stays where it is. */
	for (count = 0; count < IPT_KAM_RPC_MAX_PARAMETERS; count++) {
		kam_str_t p = {0, 0};
		int n = rpc->scan(ctx, "*.S", &p);
		if (n != 1) {
			if (n < 0)
				count = -1;
			break;
		}
		if (p.s && p.len >= 0 && p.len < IPT_KAM_RPC_COPY) {
			memcpy(copies[count], p.s, (size_t)p.len);
			p.s = copies[count];
		}
		texts[count] = p.s;
		lengths[count] = p.len;
	}
	code = command(texts, lengths, count, ipt_kam_rpc_open, ipt_kam_rpc_number, ipt_kam_rpc_text, &reply,
			&fault, &fault_length);
	if (code != 0)
		rpc->fault(ctx, code, "%.*s", fault_length, fault ? fault : "");
}

static void ipt_kam_rpc_list(kam_rpc_t *rpc, void *ctx) { ipt_kam_rpc_answer(rpc, ctx, ipt_mod_rpc_list); }
static void ipt_kam_rpc_stats(kam_rpc_t *rpc, void *ctx) { ipt_kam_rpc_answer(rpc, ctx, ipt_mod_rpc_stats); }
static void ipt_kam_rpc_relays(kam_rpc_t *rpc, void *ctx) { ipt_kam_rpc_answer(rpc, ctx, ipt_mod_rpc_relays); }

static const char *ipt_kam_rpc_list_doc[] = {
	"The relays' sessions, a page at a time: [OFFSET [LIMIT [SWITCHBOARD]]] (LIMIT default 100, at most 1000). "
	"Answers {total, offset, limit, count, sessions: [{id, switchboard, host, call-id, port-a, port-b, address-a, "
	"address-b, latched-a, latched-b, packets-a, packets-b, bytes-a, bytes-b, drops-a, drops-b, age, idle}], errors}.", 0};
static const char *ipt_kam_rpc_stats_doc[] = {
	"Relay counters as numbers, per switchboard too ([SWITCHBOARD] for one); with several media hosts, totals and hosts.", 0};
static const char *ipt_kam_rpc_relays_doc[] = {
	"The media hosts: [{id, address, weight, state, since, since-text, sessions, allocated, failures, last-error}].", 0};

kam_rpc_export_t ipt_kam_rpc_methods[] = {
	{"iptrtpproxy.list", ipt_kam_rpc_list, ipt_kam_rpc_list_doc, 0},
	{"iptrtpproxy.stats", ipt_kam_rpc_stats, ipt_kam_rpc_stats_doc, 0},
	{"iptrtpproxy.relays", ipt_kam_rpc_relays, ipt_kam_rpc_relays_doc, 0},
	{0, 0, 0, 0}
};
