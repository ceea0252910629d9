// CIPTRTPProxyRedis: Debian's hiredis (0.14) as Swift sees it, for the session store's Redis client
// (IPTRTPProxyRedis). Only what Swift cannot reach directly, under the `ipt_redis_` prefix: the
// REDIS_* macros as functions (so the Swift never depends on how a macro is imported) and the
// context's error string (a char[128], a tuple in Swift). No logic here.
//
// redisCommand and redisAppendCommand are variadic and unusable from Swift; the Swift calls
// redisCommandArgv, redisAppendCommandArgv and redisGetReply, which are plain functions.
//
// Only IPTRTPProxyRedis links hiredis: the Kamailio module must not depend on this target.
#ifndef CIPTRTPPROXYREDIS_H
#define CIPTRTPPROXYREDIS_H

#include <hiredis/hiredis.h>

// Return values of the hiredis functions that return an int.
static inline int ipt_redis_ok(void) { return REDIS_OK; }
static inline int ipt_redis_err(void) { return REDIS_ERR; }

// redisReply.type.
static inline int ipt_redis_reply_string(void) { return REDIS_REPLY_STRING; }
static inline int ipt_redis_reply_array(void) { return REDIS_REPLY_ARRAY; }
static inline int ipt_redis_reply_integer(void) { return REDIS_REPLY_INTEGER; }
static inline int ipt_redis_reply_nil(void) { return REDIS_REPLY_NIL; }
static inline int ipt_redis_reply_status(void) { return REDIS_REPLY_STATUS; }
static inline int ipt_redis_reply_error(void) { return REDIS_REPLY_ERROR; }

// redisContext.err (0 when there is no error).
static inline int ipt_redis_err_io(void) { return REDIS_ERR_IO; }
static inline int ipt_redis_err_eof(void) { return REDIS_ERR_EOF; }
static inline int ipt_redis_err_protocol(void) { return REDIS_ERR_PROTOCOL; }
static inline int ipt_redis_err_oom(void) { return REDIS_ERR_OOM; }
static inline int ipt_redis_err_other(void) { return REDIS_ERR_OTHER; }

// The context's error string (NUL-terminated inside redisContext.errstr[128]).
static inline const char *ipt_redis_errstr(const redisContext *c) { return c->errstr; }

#endif
