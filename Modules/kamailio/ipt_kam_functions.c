/* ipt_kam_functions.c — the five script functions: read the parameters (literals, pseudo-variables,
 * selects), hand the message body to the Swift layer, and put the rewritten SDP tokens into the
 * message, one body lump per token, so that other modules' body changes stay. Returns 1 or -1, never 0 (0 would stop the script). */
#include <string.h>
#include <sys/socket.h>
#include "ipt_kam.h"
#include "ipt_kam_log.h"
#include "ipt_mod.h"

#define IPT_KAM_TRUE 1
#define IPT_KAM_FALSE (-1)

/* The message body and its Content-Type value. */
typedef struct ipt_kam_body {
	char *start;
	int length;
	const char *content_type; /* NULL: no Content-Type header */
	int content_type_length;
} ipt_kam_body_t;

static int ipt_kam_get_body(struct sip_msg *msg, ipt_kam_body_t *body)
{
	char *buf, *start;
	unsigned int msg_len;
	long length;
	void *content_length, *content_type; /* hdr_field *, opaque */

	start = get_body(msg); /* parses every header first */
	if (start == NULL)
		return -1;
	buf = KAM_FIELD(msg, KAM_MSG_BUF, char *);
	msg_len = KAM_FIELD(msg, KAM_MSG_LEN, unsigned int);
	if (start < buf || start > buf + msg_len)
		return -1;
	length = (long)(buf + msg_len - start);
	content_length = KAM_FIELD(msg, KAM_MSG_CONTENT_LENGTH, void *);
	if (content_length != NULL) {
		long declared = (long)KAM_FIELD(content_length, KAM_HDR_PARSED, void *);
		if (declared >= 0 && declared < length)
			length = declared;
	}
	body->start = start;
	body->length = (int)length;
	content_type = KAM_FIELD(msg, KAM_MSG_CONTENT_TYPE, void *);
	if (content_type != NULL) {
		kam_str_t value = KAM_FIELD(content_type, KAM_HDR_BODY, kam_str_t);
		body->content_type = value.s;
		body->content_type_length = value.s ? value.len : 0;
	} else {
		body->content_type = NULL;
		body->content_type_length = 0;
	}
	return 0;
}

/* The body of a message alloc or update may rewrite. Other functions' body lumps are allowed: an
 * edit that overlaps one is refused by the edit sink. */
static int ipt_kam_rewritable_body(struct sip_msg *msg, const char *function, ipt_kam_body_t *body)
{
	if (ipt_kam_get_body(msg, body) < 0) {
		IPT_ERR("%s: cannot read the message body", function);
		return -1;
	}
	return 0;
}

static int ipt_kam_int_param(struct sip_msg *msg, char *param, const char *function, int *value)
{
	if (get_int_fparam(value, msg, (struct kam_fparam *)param) < 0) {
		IPT_ERR("%s: the flags parameter has no integer value", function);
		return -1;
	}
	return 0;
}

static int ipt_kam_str_param(struct sip_msg *msg, char *param, const char *function, const char *name, kam_str_t *value)
{
	if (get_str_fparam(value, msg, (struct kam_fparam *)param) < 0) {
		IPT_ERR("%s: the %s parameter has no value", function, name);
		return -1;
	}
	if (value->s == NULL)
		value->len = 0;
	return 0;
}

/* The most edits one alloc or update makes: at most 7 per m= line (c= address and type, port,
 * a=rtcp port, address and type, an inserted c= line), 64 m= lines, and the session-level c=,
 * plus the removed ICE lines (adjacent ones are one edit); more is refused, never overrun. */
#define IPT_KAM_MAX_EDITS 2048

/* What the edit sinks need: the message, its body, and the root lumps this call put (to undo). */
typedef struct ipt_kam_rewrite {
	struct sip_msg *msg;
	ipt_kam_body_t body;
	int count;
	struct lump *lumps[IPT_KAM_MAX_EDITS];
} ipt_kam_rewrite_t;

/* 1 when a root lump of `list` (another function's change, or ours from an earlier call) changes
 * message bytes that the edit of `length` bytes at message offset `at` changes too: a deletion that
 * shares a byte with it, a deletion around an insertion point, or an insertion point inside it.
 * Only lumps in the body [from, to] are looked at. */
static int ipt_kam_lumps_overlap(kam_lump_t *list, int from, int to, int at, int length)
{
	kam_lump_t *l;

	for (l = list; l != NULL; l = l->next) {
		int a, n;
		if (l->op != KAM_LUMP_DEL && l->op != KAM_LUMP_NOP)
			continue;
		a = l->u.offset;
		n = l->op == KAM_LUMP_DEL ? l->len : 0;
		if (a + n < from || a > to)
			continue;
		if (n > 0 && length > 0 && at < a + n && a < at + length)
			return 1;
		if (n > 0 && length == 0 && a < at && at < a + n)
			return 1;
		if (n == 0 && length > 0 && at < a && a < at + length)
			return 1;
	}
	return 0;
}

/* ipt_mod_edit_sink_t: one del_lump (or anchor_lump for an insertion) with the new text inserted
 * after it, copied into pkg memory, which the core frees with the lump. Logs nothing. */
static int ipt_kam_put_edit(void *context, int offset, int length, const char *text, int text_length)
{
	ipt_kam_rewrite_t *rewrite = context;
	struct sip_msg *msg = rewrite->msg;
	char *buf = KAM_FIELD(msg, KAM_MSG_BUF, char *);
	int from = (int)(rewrite->body.start - buf), to = from + rewrite->body.length;
	int at = from + offset;
	struct lump *anchor;
	char *copy = NULL;

	if (offset < 0 || length < 0 || text_length < 0 || offset > rewrite->body.length - length
			|| (text_length > 0 && text == NULL) || rewrite->count >= IPT_KAM_MAX_EDITS)
		return IPT_MOD_EDIT_FAILED;
	if (ipt_kam_lumps_overlap(KAM_FIELD(msg, KAM_MSG_BODY_LUMPS, kam_lump_t *), from, to, at, length)
			|| ipt_kam_lumps_overlap(KAM_FIELD(msg, KAM_MSG_ADD_RM, kam_lump_t *), from, to, at, length))
		return IPT_MOD_EDIT_OVERLAP;
	if (text_length > 0) {
		copy = _pkg_root.xmalloc(_pkg_root.mem_block, (size_t)text_length, __FILE__, __func__, __LINE__, "iptrtpproxy");
		if (copy == NULL)
			return IPT_MOD_EDIT_FAILED;
		memcpy(copy, text, (size_t)text_length);
	}
	anchor = length > 0 ? del_lump(msg, at, length, 0) : anchor_lump(msg, at, 0, 0);
	if (anchor == NULL) {
		if (copy != NULL)
			_pkg_root.xfree(_pkg_root.mem_block, copy, __FILE__, __func__, __LINE__, "iptrtpproxy");
		return IPT_MOD_EDIT_FAILED;
	}
	rewrite->lumps[rewrite->count++] = anchor; /* undo removes it with what hangs off it */
	if (copy != NULL && insert_new_lump_after(anchor, copy, text_length, 0) == NULL) {
		_pkg_root.xfree(_pkg_root.mem_block, copy, __FILE__, __func__, __LINE__, "iptrtpproxy");
		return IPT_MOD_EDIT_FAILED;
	}
	return IPT_MOD_EDIT_OK;
}

/* ipt_mod_undo_sink_t: removes every lump this call put (and the text inserted after each). */
static void ipt_kam_undo_edits(void *context)
{
	ipt_kam_rewrite_t *rewrite = context;

	while (rewrite->count > 0)
		remove_lump(rewrite->msg, rewrite->lumps[--rewrite->count]);
}

/* The address the message came from (msg->rcv.src_ip, Kamailio's $si), network-order bytes, 4 or
 * 16 of them; NULL with *length 0 when the core holds no IPv4 or IPv6 address there. The relay
 * latches the media of the message's side only from this host or the SDP's. */
static const unsigned char *ipt_kam_source_ip(struct sip_msg *msg, int *length)
{
	const char *ip = (const char *)msg + KAM_MSG_RCV_SRC_IP;
	unsigned int af = *(const unsigned int *)(ip + KAM_IP_ADDR_AF);
	unsigned int len = *(const unsigned int *)(ip + KAM_IP_ADDR_LEN);

	if ((af == AF_INET && len == 4) || (af == AF_INET6 && len == 16)) {
		*length = (int)len;
		return (const unsigned char *)ip + KAM_IP_ADDR_BYTES;
	}
	*length = 0;
	return NULL;
}

static int ipt_kam_alloc(struct sip_msg *msg, char *p_flags, char *p_switchboard)
{
	ipt_kam_rewrite_t rewrite = {.msg = msg, .count = 0};
	kam_str_t switchboard;
	const unsigned char *source;
	int flags, source_length;

	if (ipt_kam_int_param(msg, p_flags, "alloc", &flags) < 0
			|| ipt_kam_str_param(msg, p_switchboard, "alloc", "switchboard", &switchboard) < 0
			|| ipt_kam_rewritable_body(msg, "alloc", &rewrite.body) < 0)
		return IPT_KAM_FALSE;
	source = ipt_kam_source_ip(msg, &source_length);
	return ipt_mod_alloc(flags, switchboard.s, switchboard.len, source, source_length,
			       KAM_FIELD(msg, KAM_MSG_BUF, char *), (int)KAM_FIELD(msg, KAM_MSG_LEN, unsigned int), rewrite.body.start, rewrite.body.length,
			       rewrite.body.content_type, rewrite.body.content_type_length, NULL, ipt_kam_put_edit, ipt_kam_undo_edits, &rewrite)
			== 1
		? IPT_KAM_TRUE
		: IPT_KAM_FALSE;
}

static int ipt_kam_update(struct sip_msg *msg, char *p_flags, char *p_session_ids)
{
	ipt_kam_rewrite_t rewrite = {.msg = msg, .count = 0};
	kam_str_t ids;
	const unsigned char *source;
	int flags, source_length;

	if (ipt_kam_int_param(msg, p_flags, "update", &flags) < 0
			|| ipt_kam_str_param(msg, p_session_ids, "update", "session_ids", &ids) < 0
			|| ipt_kam_rewritable_body(msg, "update", &rewrite.body) < 0)
		return IPT_KAM_FALSE;
	source = ipt_kam_source_ip(msg, &source_length);
	return ipt_mod_update(flags, ids.s, ids.len, source, source_length,
			       KAM_FIELD(msg, KAM_MSG_BUF, char *), (int)KAM_FIELD(msg, KAM_MSG_LEN, unsigned int), rewrite.body.start, rewrite.body.length,
			       rewrite.body.content_type, rewrite.body.content_type_length, NULL, ipt_kam_put_edit, ipt_kam_undo_edits, &rewrite)
			== 1
		? IPT_KAM_TRUE
		: IPT_KAM_FALSE;
}

static int ipt_kam_adjust_timeout(struct sip_msg *msg, char *p_flags, char *p_session_ids)
{
	kam_str_t ids;
	const unsigned char *source;
	int flags, source_length;

	if (ipt_kam_int_param(msg, p_flags, "adjust_timeout", &flags) < 0
			|| ipt_kam_str_param(msg, p_session_ids, "adjust_timeout", "session_ids", &ids) < 0)
		return IPT_KAM_FALSE;
	source = ipt_kam_source_ip(msg, &source_length);
	return ipt_mod_adjust_timeout(flags, ids.s, ids.len, source, source_length) == 1 ? IPT_KAM_TRUE : IPT_KAM_FALSE;
}

static int ipt_kam_delete(struct sip_msg *msg, char *p_session_ids, char *unused)
{
	kam_str_t ids;

	(void)unused;
	if (ipt_kam_str_param(msg, p_session_ids, "delete", "session_ids", &ids) < 0)
		return IPT_KAM_FALSE;
	return ipt_mod_delete(ids.s, ids.len) == 1 ? IPT_KAM_TRUE : IPT_KAM_FALSE;
}

static int ipt_kam_find(struct sip_msg *msg, char *p_gate_a, char *p_gate_b)
{
	kam_str_t a, b;

	if (ipt_kam_str_param(msg, p_gate_a, "find", "gate_a", &a) < 0
			|| ipt_kam_str_param(msg, p_gate_b, "find", "gate_b", &b) < 0)
		return IPT_KAM_FALSE;
	return ipt_mod_find(a.s, a.len, b.s, b.len) == 1 ? IPT_KAM_TRUE : IPT_KAM_FALSE;
}

/* flags: an integer, a pseudo-variable or a select; every other parameter: a string, a
 * pseudo-variable, a select or a format string with pseudo-variables. */
/* A string parameter. With a '$' anywhere it is a format string, read whole: pseudo-variables and
 * text together ("$var(prefix):$var(ids)"); the core's var fixup would take only its first
 * pseudo-variable. Otherwise a literal, or a select ("@received.ip"), as before. fixup_spve_null
 * converts the parameter it is handed as its first one. */
static int ipt_kam_fixup_string(void **param, int param_no)
{
	if (*param != NULL && strchr((const char *)*param, '$') != NULL)
		return fixup_spve_null(param, 1);
	return fixup_var_pve_str_12(param, param_no);
}

static int ipt_kam_fixup_flags_string(void **param, int param_no)
{
	return param_no == 1 ? fixup_var_int_12(param, param_no) : ipt_kam_fixup_string(param, param_no);
}

static int ipt_kam_fixup_strings(void **param, int param_no)
{
	return ipt_kam_fixup_string(param, param_no);
}

/* The original allowed alloc in request and reply routes, the others in failure routes too.
 * Serial forking re-offers the SDP from failure_route (a new branch after t_relay there) and a
 * parallel fork may give each branch its own sessions in branch_route: there the message is the
 * branch's copy, and tm keeps the body lumps added in it for that branch alone. So every function
 * is allowed in every route that has a SIP message to work on. */
#define IPT_KAM_ROUTES (KAM_REQUEST_ROUTE | KAM_ONREPLY_ROUTE | KAM_FAILURE_ROUTE | KAM_BRANCH_ROUTE)
#define IPT_KAM_ROUTES_ALLOC IPT_KAM_ROUTES
#define IPT_KAM_ROUTES_OTHER IPT_KAM_ROUTES

kam_cmd_export_t ipt_kam_cmds[] = {
	{"iptrtpproxy_alloc", ipt_kam_alloc, 2, ipt_kam_fixup_flags_string, fixup_free_fparam_all, IPT_KAM_ROUTES_ALLOC},
	{"iptrtpproxy_update", ipt_kam_update, 2, ipt_kam_fixup_flags_string, fixup_free_fparam_all, IPT_KAM_ROUTES_OTHER},
	{"iptrtpproxy_adjust_timeout", ipt_kam_adjust_timeout, 2, ipt_kam_fixup_flags_string, fixup_free_fparam_all,
			IPT_KAM_ROUTES_OTHER},
	{"iptrtpproxy_delete", ipt_kam_delete, 1, ipt_kam_fixup_strings, fixup_free_fparam_all, IPT_KAM_ROUTES_OTHER},
	{"iptrtpproxy_find", ipt_kam_find, 2, ipt_kam_fixup_strings, fixup_free_fparam_all, IPT_KAM_ROUTES_OTHER},
	{0, 0, 0, 0, 0, 0}
};
