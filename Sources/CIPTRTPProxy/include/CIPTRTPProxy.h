// CIPTRTPProxy: the thin C shim under the relay. Every function is a one-line wrapper with the
// ipt_ prefix, for system calls and macros Swift's Glibc module does not expose. No logic here.
//
// The header must not define _GNU_SOURCE: its declarations would then differ from the ones Swift's
// Glibc module sees (fd_set and friends clash). So struct mmsghdr, which needs _GNU_SOURCE, is
// mirrored as ipt_mmsghdr, with a size check in shim.c.
#ifndef CIPTRTPPROXY_H
#define CIPTRTPPROXY_H

#include <sys/socket.h>
#include <sys/epoll.h>
#include <netinet/in.h>
#include <time.h>

/// Mirror of struct mmsghdr (recvmmsg/sendmmsg).
struct ipt_mmsghdr {
    struct msghdr msg_hdr;
    unsigned int msg_len;
};

/// recvmmsg(2): receive up to vlen datagrams in one call.
int ipt_recvmmsg(int fd, struct ipt_mmsghdr *msgvec, unsigned int vlen, int flags, struct timespec *timeout);
/// sendmmsg(2): send up to vlen datagrams in one call.
int ipt_sendmmsg(int fd, struct ipt_mmsghdr *msgvec, unsigned int vlen, int flags);
/// MSG_DONTWAIT as a plain int.
int ipt_msg_dontwait(void);
/// MSG_WAITFORONE as a plain int.
int ipt_msg_waitforone(void);
/// SOCK_NONBLOCK | SOCK_CLOEXEC for socket(2).
int ipt_sock_nonblock_cloexec(void);
/// accept4(2) with SOCK_NONBLOCK | SOCK_CLOEXEC: no window in which the descriptor leaks to exec.
int ipt_accept_nonblock_cloexec(int fd, struct sockaddr *address, socklen_t *length);
/// pipe2(2) with O_NONBLOCK | O_CLOEXEC.
int ipt_pipe_nonblock_cloexec(int fds[2]);
/// Names the calling thread (prctl PR_SET_NAME; at most 15 characters are kept), for top -H and ps -L.
int ipt_set_thread_name(const char *name);
/// prctl(PR_SET_PDEATHSIG): the calling process gets `signal` when the thread that forked it ends
/// (prctl is variadic, which Swift cannot call).
int ipt_set_parent_death_signal(int signal);

#endif
