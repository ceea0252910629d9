// Private to the shim: the structures behind the opaque handles.
#ifndef CIPTRTPPROXYNFT_INTERNAL_H
#define CIPTRTPPROXYNFT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>
#include <libnftnl/rule.h>
#include "include/CIPTRTPProxyNFT.h"

struct ipt_nft_socket {
    struct mnl_socket *nl;
    uint32_t portid;
    uint32_t seq;
};

struct ipt_nft_batch {
    ipt_nft_socket *sock;
    uint16_t family;
    char *buf;
    size_t len, cap;
    uint32_t first_seq;  // seq of BATCH_BEGIN
    uint32_t messages;   // object messages, each acknowledged
};

struct ipt_nft_rule {
    struct nftnl_rule *r;
};

/// Makes room for `need` more bytes; returns the write position or NULL (errno ENOMEM).
char *ipt_nft_batch_reserve(ipt_nft_batch *b, size_t need);
/// Counts the message just built at the write position and moves past it.
void ipt_nft_batch_commit_message(ipt_nft_batch *b, const struct nlmsghdr *nlh);
/// The next sequence number of the socket.
uint32_t ipt_nft_next_seq(ipt_nft_socket *s);

#endif
