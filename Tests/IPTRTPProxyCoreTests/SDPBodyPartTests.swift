import Testing
@testable import IPTRTPProxyCore

@Suite("The SDP is found in plain and multipart bodies")
struct SDPBodyPartTests {
    @Test("application/sdp is the whole body, parameters and case aside")
    func plain() {
        let body = Array("v=0\r\n".utf8)
        #expect(SDPBodyPart.locate(body: body, contentType: "application/sdp") == 0..<5)
        #expect(SDPBodyPart.locate(body: body, contentType: "Application/SDP; charset=utf-8") == 0..<5)
        #expect(SDPBodyPart.locate(body: body, contentType: "text/plain") == nil)
        #expect(SDPBodyPart.locate(body: body, contentType: nil) == 0..<5)
    }

    @Test("the application/sdp part of a multipart/mixed body")
    func multipart() {
        let body = crlf("""
            --unique-boundary-1
            Content-Type: application/isup;version=itu-t92+

            ISUPDATA
            --unique-boundary-1
            Content-Type: application/sdp

            v=0
            c=IN IP4 192.0.2.1
            m=audio 4000 RTP/AVP 0

            --unique-boundary-1--

            """)
        let range = SDPBodyPart.locate(body: body, contentType: "multipart/mixed; boundary=\"unique-boundary-1\"")
        #expect(range != nil)
        #expect(text(Array(body[range!])) == "v=0\r\nc=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n")
    }

    @Test("a multipart body without an SDP part, or without a boundary, has no SDP")
    func multipartWithoutSDP() {
        let body = crlf("--b\nContent-Type: text/plain\n\nhello\n--b--\n")
        #expect(SDPBodyPart.locate(body: body, contentType: "multipart/mixed;boundary=b") == nil)
        #expect(SDPBodyPart.locate(body: body, contentType: "multipart/mixed") == nil)
    }
}
