#define _GNU_SOURCE 1
#include <sys/socket.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <unistd.h>
#include "CIPTRTPProxy.h"

_Static_assert(sizeof(struct ipt_mmsghdr) == sizeof(struct mmsghdr), "ipt_mmsghdr mirrors mmsghdr");
_Static_assert(offsetof(struct ipt_mmsghdr, msg_len) == offsetof(struct mmsghdr, msg_len), "msg_len offset");

int ipt_recvmmsg(int fd, struct ipt_mmsghdr *msgvec, unsigned int vlen, int flags, struct timespec *timeout) {
    return recvmmsg(fd, (struct mmsghdr *)msgvec, vlen, flags, timeout);
}
int ipt_sendmmsg(int fd, struct ipt_mmsghdr *msgvec, unsigned int vlen, int flags) {
    return sendmmsg(fd, (struct mmsghdr *)msgvec, vlen, flags);
}
int ipt_msg_dontwait(void) { return MSG_DONTWAIT; }
int ipt_msg_waitforone(void) { return MSG_WAITFORONE; }
int ipt_sock_nonblock_cloexec(void) { return SOCK_NONBLOCK | SOCK_CLOEXEC; }
int ipt_set_thread_name(const char *name) { return prctl(PR_SET_NAME, name, 0, 0, 0); }
int ipt_set_parent_death_signal(int signal) { return prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0); }
int ipt_accept_nonblock_cloexec(int fd, struct sockaddr *address, socklen_t *length) { return accept4(fd, address, length, SOCK_NONBLOCK | SOCK_CLOEXEC); }
int ipt_pipe_nonblock_cloexec(int fds[2]) { return pipe2(fds, O_NONBLOCK | O_CLOEXEC); }
