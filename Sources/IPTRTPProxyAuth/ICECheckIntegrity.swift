import CIPTRTPProxyCrypto
import IPTRTPProxyCore

/// MESSAGE-INTEGRITY of ICE connectivity checks (RFC 8489 §14.5 with short-term credentials,
/// §9.1): HMAC-SHA1 keyed with the password of the agent that receives the check. The relay
/// verifies a check with the password it gave that side and signs its response with the same.
public struct ICECheckIntegrity: Sendable {
    private let key: [UInt8]

    /// Keyed with `password` (ice-chars only, so OpaqueString preparation leaves it unchanged).
    public init(password: String) {
        key = Array(password.utf8)
    }

    /// The 20-byte HMAC-SHA1 of `data`.
    public func mac(_ data: [UInt8]) -> [UInt8] {
        oneShotHMAC(EVP_sha1(), key: key, data: data)
    }

    /// True when `request` carries this password's MESSAGE-INTEGRITY (compared in constant time).
    public func verifies(_ request: STUNMessage.BindingRequest) -> Bool {
        ControlChallenge.constantTimeEqual(mac(request.integrityInput), request.integrity)
    }

    /// The signed success response to `request`, telling the requester it was seen at `source`.
    public func response(to request: STUNMessage.BindingRequest, source: Endpoint) -> [UInt8] {
        STUNMessage.bindingSuccess(transactionID: request.transactionID, mapped: source, hmac: mac)
    }
}
