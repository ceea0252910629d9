#include "CIPTRTPProxyRedis.h"

// What the Swift relies on about hiredis's reply and context layout.
_Static_assert(sizeof(long long) == 8, "redisReply.integer is an Int64");
_Static_assert(sizeof(((redisContext *)0)->errstr) == 128, "hiredis 0.14 context error string");
