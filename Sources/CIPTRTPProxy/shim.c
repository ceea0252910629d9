#include "CIPTRTPProxy.h"

int ipt_recvmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags, struct timespec *timeout) {
    return recvmmsg(fd, msgvec, vlen, flags, timeout);
}
int ipt_sendmmsg(int fd, struct mmsghdr *msgvec, unsigned int vlen, int flags) {
    return sendmmsg(fd, msgvec, vlen, flags);
}
int ipt_msg_dontwait(void) { return MSG_DONTWAIT; }
int ipt_msg_waitforone(void) { return MSG_WAITFORONE; }
int ipt_sock_nonblock_cloexec(void) { return SOCK_NONBLOCK | SOCK_CLOEXEC; }
