// CIPTRTPProxyCrypto: OpenSSL's libcrypto as Swift sees it, for the control protocol's challenge
// (HMAC-SHA256, constant-time compare). Every function used is a plain C function Swift calls
// directly; this header only makes them visible. No logic here.
//
// Why libcrypto and not swift-crypto: on Linux swift-crypto brings Foundation, which the Kamailio
// module (linked with a static Swift runtime, no Foundation) must not carry; the TLS transport
// links OpenSSL anyway.
#ifndef CIPTRTPPROXYCRYPTO_H
#define CIPTRTPPROXYCRYPTO_H

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#endif
