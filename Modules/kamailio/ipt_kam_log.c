/* ipt_kam_log.c — writes the module's log lines the way Kamailio's LM_* macros do: honour the
 * per-module debug level, then standard error (log_stderror=yes / -E) or the core's syslog
 * function with the module's facility. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include "ipt_kam_log.h"
#include "ipt_mod.h"

#define IPT_KAM_MODULE "iptrtpproxy"

static const char *ipt_kam_level_name(int level)
{
	switch (level) {
	case KAM_L_ERR: return "ERROR";
	case KAM_L_WARN: return "WARNING";
	case KAM_L_NOTICE: return "NOTICE";
	case KAM_L_INFO: return "INFO";
	default: return "DEBUG";
	}
}

static int ipt_kam_syslog_level(int level)
{
	switch (level) {
	case KAM_L_ERR: return LOG_ERR;
	case KAM_L_WARN: return LOG_WARNING;
	case KAM_L_NOTICE: return LOG_NOTICE;
	case KAM_L_INFO: return LOG_INFO;
	default: return LOG_DEBUG;
	}
}

void ipt_kam_log(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	const kam_str_t *prefix;

	if (get_debug_level(IPT_KAM_MODULE, sizeof(IPT_KAM_MODULE) - 1) < level)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	prefix = log_prefix_val;
	if (log_stderr) {
		fprintf(stderr, "%2d(%d) %s: %.*s" IPT_KAM_MODULE ": %s\n", process_no, my_pid(),
				ipt_kam_level_name(level), prefix ? prefix->len : 0, prefix ? prefix->s : "", line);
	} else {
		_km_log_func(ipt_kam_syslog_level(level)
						| get_debug_facility(IPT_KAM_MODULE, sizeof(IPT_KAM_MODULE) - 1),
				"%s: %.*s" IPT_KAM_MODULE ": %s\n", ipt_kam_level_name(level),
				prefix ? prefix->len : 0, prefix ? prefix->s : "", line);
	}
}

/* The Kamailio level of an ipt_mod_log_level. */
static int ipt_kam_level(int level)
{
	static const int kam_levels[] = {KAM_L_ERR, KAM_L_WARN, KAM_L_NOTICE, KAM_L_INFO, KAM_L_DBG};
	return (level >= 0 && level <= IPT_MOD_LOG_DEBUG) ? kam_levels[level] : KAM_L_ERR;
}

void ipt_kam_log_sink(int level, const char *message, int length)
{
	if (message == NULL || length < 0)
		return;
	ipt_kam_log(ipt_kam_level(level), "%.*s", length, message);
}

int ipt_kam_log_enabled(int level)
{
	return get_debug_level(IPT_KAM_MODULE, sizeof(IPT_KAM_MODULE) - 1) >= ipt_kam_level(level);
}
