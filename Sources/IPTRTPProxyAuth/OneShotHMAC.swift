import CIPTRTPProxyCrypto

/// OpenSSL's one-shot HMAC of `data` keyed with `key`, with the digest `digest` gives
/// (`EVP_sha256` for the control challenge, `EVP_sha1` for ICE checks). HMAC fails only without
/// memory; the result is then empty, and an empty MAC verifies nothing.
func oneShotHMAC(_ digest: OpaquePointer?, key: [UInt8], data: [UInt8]) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
    var length: UInt32 = 0
    let done = key.withUnsafeBytes { k in
        data.withUnsafeBytes { d in
            HMAC(digest, k.baseAddress, Int32(k.count), d.bindMemory(to: UInt8.self).baseAddress, d.count, &out, &length)
        }
    }
    return done == nil ? [] : Array(out.prefix(Int(length)))
}
