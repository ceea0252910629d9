// Compile-time checks of what Swift takes for granted about the netlink headers. No code: Swift
// calls libmnl and libnftnl directly (Sources/KernelOffload).
#include <linux/netfilter.h>
#include "include/CIPTRTPProxyNFT.h"

// The shim's copies of numbers Swift cannot import.
_Static_assert((int)IPT_NFT_FAMILY_IPV4 == (int)NFPROTO_IPV4, "NFPROTO_IPV4");
_Static_assert((int)IPT_NFT_FAMILY_NETDEV == (int)NFPROTO_NETDEV, "NFPROTO_NETDEV");
_Static_assert((int)IPT_NFT_NETDEV_INGRESS == (int)NF_NETDEV_INGRESS, "NF_NETDEV_INGRESS");
_Static_assert((int)IPT_NFT_ACCEPT == (int)NF_ACCEPT, "NF_ACCEPT");
_Static_assert((uint16_t)IPT_NFT_ATTRIBUTE_TYPE_MASK == (uint16_t)NLA_TYPE_MASK, "NLA_TYPE_MASK");

// Swift walks messages and attributes with one alignment, and takes a header's size for its
// aligned length (NetlinkMessage.swift, NetlinkAttribute.swift).
_Static_assert(NLA_ALIGNTO == NLMSG_ALIGNTO, "netlink messages and attributes align alike");
_Static_assert(sizeof(struct nlmsghdr) == NLMSG_HDRLEN, "struct nlmsghdr is its aligned length");
_Static_assert(sizeof(struct nlattr) == NLA_HDRLEN, "struct nlattr is its aligned length");
_Static_assert(sizeof(struct nfgenmsg) == NLMSG_ALIGN(sizeof(struct nfgenmsg)), "struct nfgenmsg is its aligned length");
_Static_assert(sizeof(struct rtmsg) == NLMSG_ALIGN(sizeof(struct rtmsg)), "struct rtmsg is its aligned length");
