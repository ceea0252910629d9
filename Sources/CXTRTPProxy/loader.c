#include "CXTRTPProxy.h"
int ipt_xt_placeholder(void) { return 0; }
