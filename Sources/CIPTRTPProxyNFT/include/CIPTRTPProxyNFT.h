// CIPTRTPProxyNFT: the C that the kernel offload (Sources/KernelOffload) cannot do without. It
// makes libmnl, libnftnl and the kernel's netlink headers visible to Swift, which calls their
// functions directly and does all the work itself: building transactions, tracking their acks,
// parsing dumps and route replies (DESIGN.md: C keeps only what Swift cannot call directly).
//
// What is left here is what Swift cannot import: numbers that only <linux/netfilter.h> defines
// (that header pulls <linux/in.h> into Swift next to Glibc's <netinet/in.h>) and macros that are
// expressions, each copied into an `IPT_NFT_` constant that shim.c checks against the original.
#ifndef CIPTRTPPROXYNFT_H
#define CIPTRTPPROXYNFT_H

#include <stdint.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/set.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>

/// NFPROTO_IPV4 and NFPROTO_NETDEV, as <linux/netfilter.h> numbers them.
enum { IPT_NFT_FAMILY_IPV4 = 2, IPT_NFT_FAMILY_NETDEV = 5 };
/// NF_NETDEV_INGRESS (the hook of a netdev base chain) and NF_ACCEPT (a chain's policy).
enum { IPT_NFT_NETDEV_INGRESS = 0, IPT_NFT_ACCEPT = 1 };
/// NLA_TYPE_MASK: an attribute's type without the nested and byte-order flags.
enum { IPT_NFT_ATTRIBUTE_TYPE_MASK = 0x3fff };

#endif
