/* ipt_kam.h — what the parts of the Kamailio glue share. */
#ifndef IPT_KAM_H
#define IPT_KAM_H

#include "kam56.h"

/* ipt_kam_functions.c: the script functions' table (cmd_export_t, NULL-terminated). */
extern kam_cmd_export_t ipt_kam_cmds[];

/* ipt_kam_selects.c: registers @iptrtpproxy.* (in mod_register, before the script is parsed). */
int ipt_kam_register_selects(void);
/* Clears the selects before each script run (pre-script callback). */
int ipt_kam_reset_selects(struct sip_msg *msg, unsigned int flags, void *param);

/* ipt_kam_rpc.c: iptrtpproxy.list, iptrtpproxy.stats and iptrtpproxy.relays. */
extern kam_rpc_export_t ipt_kam_rpc_methods[];

#endif
