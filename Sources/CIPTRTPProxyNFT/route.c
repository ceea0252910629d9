// Route lookups over rtnetlink: where the kernel would send a packet, so that the netdev fast path
// (which skips the kernel's routing) can send it the same way.
#include <errno.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>
#include <libmnl/libmnl.h>
#include "internal.h"

_Static_assert((int)IPT_NFT_ROUTE_UNICAST == (int)RTN_UNICAST, "RTN_UNICAST");

struct ipt_nft_route_reply {
    struct ipt_nft_route *route;
    int found;
};

static int ipt_nft_route_attribute(const struct nlattr *attr, void *data) {
    struct ipt_nft_route *route = data;
    switch (mnl_attr_get_type(attr)) {
    case RTA_OIF:
        if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0) return MNL_CB_ERROR;
        route->interface = mnl_attr_get_u32(attr);
        break;
    case RTA_GATEWAY:
        if (mnl_attr_get_payload_len(attr) != 4) return MNL_CB_ERROR;
        memcpy(route->next_hop, mnl_attr_get_payload(attr), 4);
        break;
    }
    return MNL_CB_OK;
}

static int ipt_nft_route_message(const struct nlmsghdr *nlh, void *data) {
    struct ipt_nft_route_reply *reply = data;
    const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
    reply->route->type = rtm->rtm_type;
    if (mnl_attr_parse(nlh, sizeof *rtm, ipt_nft_route_attribute, reply->route) < 0) return MNL_CB_ERROR;
    reply->found = 1;
    return MNL_CB_OK;
}

int ipt_nft_route_get(const uint8_t destination[4], const uint8_t source[4], struct ipt_nft_route *route) {
    char buf[MNL_SOCKET_BUFFER_SIZE];
    memset(route, 0, sizeof *route);
    memcpy(route->next_hop, destination, 4);
    struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
    if (!nl) return -errno;
    if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) { int e = errno; mnl_socket_close(nl); return -e; }
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_GETROUTE;
    nlh->nlmsg_flags = NLM_F_REQUEST;
    nlh->nlmsg_seq = (uint32_t)time(NULL);
    struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
    rtm->rtm_family = AF_INET;
    rtm->rtm_dst_len = 32;
    mnl_attr_put(nlh, RTA_DST, 4, destination);
    if (source) {
        rtm->rtm_src_len = 32;
        mnl_attr_put(nlh, RTA_SRC, 4, source);
    }
    uint32_t seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(nl);
    int result = 0;
    if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
        result = -errno;
    } else {
        struct ipt_nft_route_reply reply = { route, 0 };
        ssize_t n = mnl_socket_recvfrom(nl, buf, sizeof buf);
        if (n < 0) result = -errno;
        else if (mnl_cb_run(buf, (size_t)n, seq, portid, ipt_nft_route_message, &reply) < 0) result = -errno;
        else if (!reply.found) result = -ENOENT;
    }
    mnl_socket_close(nl);
    return result;
}
