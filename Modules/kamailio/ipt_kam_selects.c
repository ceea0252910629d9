/* ipt_kam_selects.c — @iptrtpproxy.session_ids, .sdp_ip, .switchboard, .direction (also $sel(...)).
 * The values live in the Swift layer for the current script run; a select with no value answers
 * "null" (1), as the core expects. */
#include "ipt_kam.h"
#include "ipt_kam_log.h"
#include "ipt_mod.h"

static int ipt_kam_select_value(kam_str_t *res, int which)
{
	const char *value;
	int length;

	if (res == NULL)
		return -1;
	if (ipt_mod_get_select(which, &value, &length) != 1)
		return 1;
	res->s = (char *)value; /* stays valid until the next ipt_mod_ call in this process */
	res->len = length;
	return 0;
}

/* The root of the select tree: resolution always continues below it, so it is never called. */
static int ipt_kam_sel_root(kam_str_t *res, kam_select_t *s, struct sip_msg *msg)
{
	(void)res;
	(void)s;
	(void)msg;
	return 1;
}

static int ipt_kam_sel_session_ids(kam_str_t *res, kam_select_t *s, struct sip_msg *msg)
{
	(void)s;
	(void)msg;
	return ipt_kam_select_value(res, IPT_MOD_SELECT_SESSION_IDS);
}

static int ipt_kam_sel_sdp_ip(kam_str_t *res, kam_select_t *s, struct sip_msg *msg)
{
	(void)s;
	(void)msg;
	return ipt_kam_select_value(res, IPT_MOD_SELECT_SDP_IP);
}

static int ipt_kam_sel_switchboard(kam_str_t *res, kam_select_t *s, struct sip_msg *msg)
{
	(void)s;
	(void)msg;
	return ipt_kam_select_value(res, IPT_MOD_SELECT_SWITCHBOARD);
}

static int ipt_kam_sel_direction(kam_str_t *res, kam_select_t *s, struct sip_msg *msg)
{
	(void)s;
	(void)msg;
	return ipt_kam_select_value(res, IPT_MOD_SELECT_DIRECTION);
}

#define IPT_KAM_NAME(text) {(char *)(text), sizeof(text) - 1}

static kam_select_row_t ipt_kam_select_table[] = {
	{0, KAM_SEL_PARAM_STR, IPT_KAM_NAME("iptrtpproxy"), ipt_kam_sel_root, KAM_SEL_PARAM_EXPECTED},
	{ipt_kam_sel_root, KAM_SEL_PARAM_STR, IPT_KAM_NAME("session_ids"), ipt_kam_sel_session_ids, 0},
	{ipt_kam_sel_root, KAM_SEL_PARAM_STR, IPT_KAM_NAME("sdp_ip"), ipt_kam_sel_sdp_ip, 0},
	{ipt_kam_sel_root, KAM_SEL_PARAM_STR, IPT_KAM_NAME("switchboard"), ipt_kam_sel_switchboard, 0},
	{ipt_kam_sel_root, KAM_SEL_PARAM_STR, IPT_KAM_NAME("direction"), ipt_kam_sel_direction, 0},
	{0, KAM_SEL_PARAM_INT, {0, 0}, 0, 0}
};

int ipt_kam_register_selects(void)
{
	if (register_select_table(ipt_kam_select_table) < 0) {
		IPT_ERR("cannot register the @iptrtpproxy selects");
		return -1;
	}
	return 0;
}

int ipt_kam_reset_selects(struct sip_msg *msg, unsigned int flags, void *param)
{
	(void)msg;
	(void)flags;
	(void)param;
	ipt_mod_reset_selects();
	return 1; /* 1: go on with the script */
}
