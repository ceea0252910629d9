// The xt_RTPPROXY binding: dlopen the library, resolve its calls, and translate between the
// shim's plain structures and the library's.
#define _GNU_SOURCE 1
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "CXTRTPProxy.h"

#ifdef IPT_XT_RTPPROXY_REAL_HEADER
#include <linux/netfilter/xt_RTPPROXY.h>
#else
#include "xt_RTPPROXY_reconstructed.h"
#endif

// The library may keep more in its handle than the fields the module used; leave it room.
enum { IPT_XT_HANDLE_ROOM = 4096 };

struct ipt_xt_library {
    void *dl;
    char path[512];
    union {
        struct xt_rtpproxy_handle h;
        char room[IPT_XT_HANDLE_ROOM];
    } handle;
    char error[256];
    int (*open)(struct xt_rtpproxy_handle *);
    int (*close)(struct xt_rtpproxy_handle *);
    int (*get_switchboards)(struct xt_rtpproxy_handle *, struct xt_rtpproxy_sockopt_in_switchboard *, void *, int,
                            struct xt_rtpproxy_sockopt_out_switchboard **);
    void (*release_switchboards)(struct xt_rtpproxy_handle *, struct xt_rtpproxy_sockopt_out_switchboard *);
    int (*alloc_session)(struct xt_rtpproxy_handle *, struct xt_rtpproxy_sockopt_in_switchboard *,
                         struct xt_rtpproxy_sockopt_in_alloc_session *, void *,
                         struct xt_rtpproxy_sockopt_out_alloc_session *);
    int (*update_session)(struct xt_rtpproxy_handle *, struct xt_rtpproxy_sockopt_in_switchboard *,
                          struct xt_rtpproxy_sockopt_in_sess_id *, struct xt_rtpproxy_sockopt_in_alloc_session *);
    int (*delete_session)(struct xt_rtpproxy_handle *, struct xt_rtpproxy_sockopt_in_switchboard *,
                          struct xt_rtpproxy_sockopt_in_sess_id *);
};

static const char *const ipt_xt_directories[] = {
    "/lib/xtables", "/usr/lib/x86_64-linux-gnu/xtables", "/usr/lib/xtables", "/usr/local/lib/xtables",
};

// An iptables extension calls xtables_register_target from its constructor: load libxtables
// first, globally, so that the call resolves (the original module defined a dummy instead).
static void ipt_xt_preload_xtables(void) {
    if (!dlopen("libxtables.so.12", RTLD_NOW | RTLD_GLOBAL)) dlopen("libxtables.so", RTLD_NOW | RTLD_GLOBAL);
}

static void *ipt_xt_dlopen(const char *path, ipt_xt_library *lib, char *error, size_t error_size) {
    void *dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (dl) snprintf(lib->path, sizeof lib->path, "%s", path);
    else snprintf(error, error_size, "%s", dlerror());
    return dl;
}

#define IPT_XT_RESOLVE(lib, name)                                                                      \
    do {                                                                                               \
        *(void **)&(lib)->name = dlsym((lib)->dl, "xt_RTPPROXY_" #name);                               \
        if (!(lib)->name) {                                                                            \
            snprintf(error, error_size, "%s has no xt_RTPPROXY_" #name, (lib)->path);                   \
            goto fail;                                                                                 \
        }                                                                                              \
    } while (0)

ipt_xt_library *ipt_xt_open(const char *path, char *error, size_t error_size) {
    ipt_xt_library *lib = calloc(1, sizeof *lib);
    if (!lib) { snprintf(error, error_size, "out of memory"); return NULL; }
    ipt_xt_preload_xtables();
    if (!path) path = getenv("IPT_RTPPROXY_LIB");
    if (path && *path) {
        lib->dl = ipt_xt_dlopen(path, lib, error, error_size);
    } else {
        snprintf(error, error_size, "libipt_RTPPROXY.so not found in /lib/xtables, /usr/lib/x86_64-linux-gnu/xtables, "
                 "/usr/lib/xtables, /usr/local/lib/xtables (set IPT_RTPPROXY_LIB)");
        for (size_t i = 0; i < sizeof ipt_xt_directories / sizeof *ipt_xt_directories && !lib->dl; i++) {
            char candidate[512];
            snprintf(candidate, sizeof candidate, "%s/libipt_RTPPROXY.so", ipt_xt_directories[i]);
            lib->dl = dlopen(candidate, RTLD_NOW | RTLD_LOCAL);
            if (lib->dl) snprintf(lib->path, sizeof lib->path, "%s", candidate);
        }
    }
    if (!lib->dl) { free(lib); return NULL; }
    IPT_XT_RESOLVE(lib, open);
    IPT_XT_RESOLVE(lib, close);
    IPT_XT_RESOLVE(lib, get_switchboards);
    IPT_XT_RESOLVE(lib, release_switchboards);
    IPT_XT_RESOLVE(lib, alloc_session);
    IPT_XT_RESOLVE(lib, update_session);
    IPT_XT_RESOLVE(lib, delete_session);
    if (lib->open(&lib->handle.h) < 0) {
        snprintf(error, error_size, "xt_RTPPROXY_open: %s (errno %d)",
                 lib->handle.h.err_str ? lib->handle.h.err_str : "failed", lib->handle.h.err_no);
        goto fail;
    }
    return lib;
fail:
    dlclose(lib->dl);
    free(lib);
    return NULL;
}

void ipt_xt_close(ipt_xt_library *lib) {
    if (!lib) return;
    lib->close(&lib->handle.h);
    dlclose(lib->dl);
    free(lib);
}

const char *ipt_xt_path(const ipt_xt_library *lib) { return lib->path; }

const char *ipt_xt_error(const ipt_xt_library *lib) { return lib->error; }

static int ipt_xt_failed(ipt_xt_library *lib, const char *call) {
    snprintf(lib->error, sizeof lib->error, "%s: %s (errno %d)", call,
             lib->handle.h.err_str ? lib->handle.h.err_str : "failed", lib->handle.h.err_no);
    return -1;
}

static struct xt_rtpproxy_sockopt_in_switchboard ipt_xt_switchboard(const ipt_xt_gates *g) {
    struct xt_rtpproxy_sockopt_in_switchboard sw;
    memset(&sw, 0, sizeof sw);
    for (int i = 0; i < 2; i++) {
        sw.gate[i].ip = g->ip[i];
        sw.gate[i].port = g->port[i];
    }
    return sw;
}

static struct xt_rtpproxy_sockopt_in_alloc_session ipt_xt_session(const ipt_xt_session_request *r) {
    struct xt_rtpproxy_sockopt_in_alloc_session s;
    memset(&s, 0, sizeof s);
    for (int g = 0; g < 2; g++) {
        s.source[g].always_learn = r->source[g].always_learn;
        for (int j = 0; j < 2; j++) {
            const ipt_xt_stream_request *in = &r->source[g].stream[j];
            if (in->has_address) {
                s.source[g].stream[j].flags |= XT_RTPPROXY_SOCKOPT_FLAG_SESSION_ADDR;
                s.source[g].stream[j].addr.ip = in->ip;
                s.source[g].stream[j].addr.port = in->port;
            }
            if (in->has_learning_timeout) {
                s.source[g].stream[j].flags |= XT_RTPPROXY_SOCKOPT_FLAG_SESSION_LEARNING_TIMEOUT;
                s.source[g].stream[j].learning_timeout = in->learning_timeout;
            }
        }
    }
    return s;
}

int ipt_xt_find_switchboard(ipt_xt_library *lib, const ipt_xt_gates *gates, ipt_xt_gates *found) {
    struct xt_rtpproxy_sockopt_in_switchboard sw = ipt_xt_switchboard(gates);
    struct xt_rtpproxy_sockopt_out_switchboard *out = NULL;
    if (lib->get_switchboards(&lib->handle.h, &sw, NULL, XT_RTPPROXY_SOCKOPT_FLAG_OUT_SWITCHBOARD, &out) < 0)
        return ipt_xt_failed(lib, "xt_RTPPROXY_get_switchboards");
    if (!out) return 0;
    for (int i = 0; i < 2; i++) {
        found->ip[i] = out->so.gate[i].addr.ip;
        found->port[i] = out->so.gate[i].addr.port;
    }
    lib->release_switchboards(&lib->handle.h, out);
    return 1;
}

int ipt_xt_alloc_session(ipt_xt_library *lib, const ipt_xt_gates *gates, const ipt_xt_session_request *request,
                         ipt_xt_allocated *out) {
    struct xt_rtpproxy_sockopt_in_switchboard sw = ipt_xt_switchboard(gates);
    struct xt_rtpproxy_sockopt_in_alloc_session sess = ipt_xt_session(request);
    struct xt_rtpproxy_sockopt_out_alloc_session reply;
    memset(&reply, 0, sizeof reply);
    if (lib->alloc_session(&lib->handle.h, &sw, &sess, NULL, &reply) < 0)
        return ipt_xt_failed(lib, "xt_RTPPROXY_alloc_session");
    out->id = reply.sess_id;
    out->created = reply.created;
    for (int g = 0; g < 2; g++)
        for (int j = 0; j < 2; j++) out->port[g][j] = reply.gate[g].stream[j].port;
    return 0;
}

int ipt_xt_update_session(ipt_xt_library *lib, const ipt_xt_gates *gates, int32_t id, uint32_t created,
                          const ipt_xt_session_request *request) {
    struct xt_rtpproxy_sockopt_in_switchboard sw = ipt_xt_switchboard(gates);
    struct xt_rtpproxy_sockopt_in_alloc_session sess = ipt_xt_session(request);
    struct xt_rtpproxy_sockopt_in_sess_id range = { .sess_id_min = id, .sess_id_max = id, .created = created };
    if (lib->update_session(&lib->handle.h, &sw, &range, &sess) < 0)
        return ipt_xt_failed(lib, "xt_RTPPROXY_update_session");
    return 0;
}

int ipt_xt_delete_sessions(ipt_xt_library *lib, const ipt_xt_gates *gates, int32_t first, int32_t last,
                           uint32_t created) {
    struct xt_rtpproxy_sockopt_in_switchboard sw = ipt_xt_switchboard(gates);
    struct xt_rtpproxy_sockopt_in_sess_id range = { .sess_id_min = first, .sess_id_max = last, .created = created };
    if (lib->delete_session(&lib->handle.h, &sw, &range) < 0)
        return ipt_xt_failed(lib, "xt_RTPPROXY_delete_session");
    return 0;
}
