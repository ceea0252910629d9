// CIPTRTPProxyTLS: makes the system's OpenSSL (libssl, libcrypto) visible to Swift, which calls its
// functions directly (Sources/IPTRTPProxyTLS). What is left here is what Swift cannot call: OpenSSL
// API that is a macro over SSL_CTX_ctrl / SSL_ctrl, each as a one-line `ipt_tls_` wrapper. No logic.
#ifndef CIPTRTPPROXYTLS_H
#define CIPTRTPPROXYTLS_H

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

/// SSL_CTX_set_min_proto_version: the oldest protocol the context accepts (TLS1_2_VERSION).
int ipt_tls_ctx_set_min_proto_version(SSL_CTX *ctx, int version);
/// SSL_CTX_set_max_proto_version: the newest protocol the context offers (tests use it to speak TLS 1.2).
int ipt_tls_ctx_set_max_proto_version(SSL_CTX *ctx, int version);
/// SSL_CTX_set_mode: adds SSL_MODE_* bits; returns the new mode.
long ipt_tls_ctx_set_mode(SSL_CTX *ctx, long mode);
/// SSL_set_tlsext_host_name: the server name (SNI) a client sends; a DNS name, never an IP literal.
int ipt_tls_set_tlsext_host_name(SSL *ssl, const char *name);

#endif
