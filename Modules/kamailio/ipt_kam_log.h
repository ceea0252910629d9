/* ipt_kam_log.h — the module's lines in Kamailio's log (the core's LM_* macros, reproduced). */
#ifndef IPT_KAM_LOG_H
#define IPT_KAM_LOG_H

#include "kam56.h"

/* Writes one line at a Kamailio level (KAM_L_ERR ... KAM_L_DBG), printf style. */
void ipt_kam_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The sink handed to the Swift layer (ipt_mod_set_log_sink): its levels are ipt_mod_log_level. */
void ipt_kam_log_sink(int level, const char *message, int length);

/* The level check handed to the Swift layer (ipt_mod_set_log_enabled): 1 when Kamailio writes
 * lines of this ipt_mod_log_level now (the module's debug level, which can change at run time). */
int ipt_kam_log_enabled(int level);

#define IPT_ERR(...) ipt_kam_log(KAM_L_ERR, __VA_ARGS__)
#define IPT_WARN(...) ipt_kam_log(KAM_L_WARN, __VA_ARGS__)
#define IPT_INFO(...) ipt_kam_log(KAM_L_INFO, __VA_ARGS__)
#define IPT_DBG(...) ipt_kam_log(KAM_L_DBG, __VA_ARGS__)

#endif
