// CIPTRTPProxy: the thin C shim under the relay. Every function is a one-line wrapper with the
// ipt_ prefix, for system calls and macros Swift's Glibc module does not expose. No logic here.
#ifndef CIPTRTPPROXY_H
#define CIPTRTPPROXY_H

#define _GNU_SOURCE 1
#include <sys/socket.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <time.h>

/// recvmmsg(2): receive up to vlen datagrams in one call.
int ipt_recvmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags, struct timespec *timeout);
/// sendmmsg(2): send up to vlen datagrams in one call.
int ipt_sendmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags);
/// MSG_DONTWAIT, MSG_WAITFORONE and friends as plain ints.
int ipt_msg_dontwait(void);
int ipt_msg_waitforone(void);
/// SOCK_NONBLOCK | SOCK_CLOEXEC for socket(2).
int ipt_sock_nonblock_cloexec(void);

#endif
