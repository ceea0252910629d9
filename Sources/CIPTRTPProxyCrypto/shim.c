#include "CIPTRTPProxyCrypto.h"

// The challenge's proofs are HMAC-SHA256 values; Swift sizes its buffers with this.
_Static_assert(EVP_MAX_MD_SIZE >= 32, "an HMAC-SHA256 fits EVP_MAX_MD_SIZE");
