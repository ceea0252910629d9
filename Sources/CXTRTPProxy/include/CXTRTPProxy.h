#ifndef CXTRTPPROXY_H
#define CXTRTPPROXY_H
int ipt_xt_placeholder(void);
#endif
