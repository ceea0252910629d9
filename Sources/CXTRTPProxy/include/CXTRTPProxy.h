// CXTRTPProxy: the xt_RTPPROXY binding (spec iptrtpproxy-v1.md §1). libipt_RTPPROXY is loaded with
// dlopen, so that everything builds and runs where it is absent; its calls are reached through
// this thin shim (`ipt_xt_` prefix), whose own plain structures keep Swift apart from the
// library's header (the real one with `make iptdir=PATH`, else a reconstruction; see
// xt_RTPPROXY_reconstructed.h).
//
// Errors: functions returning int give >= 0 on success and -1 on failure, with the library's
// message in `ipt_xt_error`. Not thread-safe (the library's handle is one socket).
#ifndef CXTRTPPROXY_H
#define CXTRTPPROXY_H

#include <stddef.h>
#include <stdint.h>

/// The loaded library and its open handle.
typedef struct ipt_xt_library ipt_xt_library;

/// A switchboard, by its two gates: IPv4 address in network order, base port.
typedef struct ipt_xt_gates {
    uint32_t ip[2];
    uint16_t port[2];
} ipt_xt_gates;

/// One stream (RTP or RTCP) of one client. `has_address`/`has_learning_timeout` become the
/// library's SESSION_ADDR / SESSION_LEARNING_TIMEOUT flags.
typedef struct ipt_xt_stream_request {
    int has_address;
    uint32_t ip;    // network order
    uint16_t port;
    int has_learning_timeout;
    uint32_t learning_timeout;
} ipt_xt_stream_request;

/// What an alloc or update says of the client on one gate's side: RTP (0) and RTCP (1).
typedef struct ipt_xt_source_request {
    int always_learn;
    ipt_xt_stream_request stream[2];
} ipt_xt_source_request;

/// What an alloc or update says of the client on each gate's side (0 = A, 1 = B).
typedef struct ipt_xt_session_request {
    ipt_xt_source_request source[2];
} ipt_xt_session_request;

/// The reply to an alloc.
typedef struct ipt_xt_allocated {
    int32_t id;
    uint32_t created;
    uint16_t port[2][2];  // [gate][stream]
} ipt_xt_allocated;

/// Loads the library and opens a handle. `path` NULL: $IPT_RTPPROXY_LIB, else libipt_RTPPROXY.so
/// in /lib/xtables, /usr/lib/x86_64-linux-gnu/xtables, /usr/lib/xtables, /usr/local/lib/xtables.
/// NULL on failure, with the reason in `error` (at most `error_size` bytes).
ipt_xt_library *ipt_xt_open(const char *path, char *error, size_t error_size);
/// Closes the handle and unloads the library.
void ipt_xt_close(ipt_xt_library *lib);
/// The file the library was loaded from.
const char *ipt_xt_path(const ipt_xt_library *lib);
/// The library's message for the last failed call (never NULL).
const char *ipt_xt_error(const ipt_xt_library *lib);

/// Looks a switchboard up in the kernel: 1 and its gates as the kernel has them in `found`
/// (the real base ports), 0 when the kernel has no such switchboard, -1 on error.
int ipt_xt_find_switchboard(ipt_xt_library *lib, const ipt_xt_gates *gates, ipt_xt_gates *found);
/// Allocates one session.
int ipt_xt_alloc_session(ipt_xt_library *lib, const ipt_xt_gates *gates, const ipt_xt_session_request *request,
                         ipt_xt_allocated *out);
/// Updates session `id` (incarnation `created`).
int ipt_xt_update_session(ipt_xt_library *lib, const ipt_xt_gates *gates, int32_t id, uint32_t created,
                          const ipt_xt_session_request *request);
/// Deletes sessions `first`...`last`; `created` is the stamp of `first`.
int ipt_xt_delete_sessions(ipt_xt_library *lib, const ipt_xt_gates *gates, int32_t first, int32_t last,
                           uint32_t created);

#endif
