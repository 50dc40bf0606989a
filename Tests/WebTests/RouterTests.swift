import Testing
@testable import Web

@Suite("Router")
struct RouterTests {
    func router() -> Router<String> {
        var r = Router<String>()
        r.add(.get, "/healthz", "health")
        r.add(.get, "/api/portals/:id", "show")
        r.add(.put, "/api/portals/:id", "update")
        r.add(.delete, "/api/portals/:id", "delete")
        r.add(.get, "/p/:slug", "portal")
        r.add(.patch, "/api/tus/*rest", "tus")
        return r
    }

    @Test("matches literals and parameters, decoding them")
    func parameters() {
        guard case .found(let h, let params) = router().match(.get, "/api/portals/12") else { Issue.record("no match"); return }
        #expect(h == "show" && params == ["id": "12"])
        guard case .found(_, let decoded) = router().match(.get, "/p/caf%C3%A9%2Fbar") else { Issue.record("no match"); return }
        #expect(decoded == ["slug": "café/bar"])
    }

    @Test("trailing and doubled slashes do not create new paths")
    func slashes() {
        guard case .found(let h, _) = router().match(.get, "/healthz/") else { Issue.record("no match"); return }
        #expect(h == "health")
    }

    @Test("rest parameters take the remaining path")
    func rest() {
        guard case .found(_, let params) = router().match(.patch, "/api/tus/a/b") else { Issue.record("no match"); return }
        #expect(params == ["rest": "a/b"])
    }

    @Test("405 lists the allowed methods; HEAD is served by GET")
    func methodNotAllowed() {
        guard case .methodNotAllowed(let allowed) = router().match(.post, "/api/portals/3") else { Issue.record("expected 405"); return }
        #expect(allowed.map(\.rawValue) == ["GET", "PUT", "DELETE", "HEAD"])
        guard case .found(let h, _) = router().match(.head, "/healthz") else { Issue.record("HEAD should match GET"); return }
        #expect(h == "health")
    }

    @Test("unknown paths and malformed escapes")
    func notFound() {
        guard case .notFound = router().match(.get, "/nope") else { Issue.record("expected 404"); return }
        guard case .notFound = router().match(.get, "/api/portals") else { Issue.record("expected 404"); return }
        guard case .badPath = router().match(.get, "/p/%zz") else { Issue.record("expected bad path"); return }
        guard case .badPath = router().match(.get, "/p/%ff") else { Issue.record("expected bad path for invalid UTF-8"); return }
    }
}

@Suite("URL-encoded forms")
struct URLEncodedFormTests {
    @Test("decodes pairs, plus signs and escapes in order")
    func decode() throws {
        let f = try URLEncodedForm.parse("a=1&b=hello+world&c=%C3%A9t%C3%A9&a=2&flag&empty=")
        #expect(f["a"] == "1" && f.values("a") == ["1", "2"])
        #expect(f["b"] == "hello world" && f["c"] == "été" && f["flag"] == "" && f["empty"] == "")
        #expect(f.count == 6)
    }

    @Test("malformed escapes and invalid UTF-8 are 400 with a position")
    func malformed() {
        #expect(throws: HTTPError.self) { try URLEncodedForm.parse("a=%G1") }
        #expect(throws: HTTPError.self) { try URLEncodedForm.parse("a=%4") }
        let error = try? #require(throws: HTTPError.self) { try URLEncodedForm.parse("ok=1&a=%FF%FE") }
        #expect(error?.status == .badRequest)
        #expect(error?.publicMessage.contains("UTF-8") == true)
    }

    @Test("limits on field count, field size and total size")
    func limits() {
        let limits = FormLimits(maxFields: 2, maxFieldBytes: 5, maxTotalBytes: 40)
        #expect(throws: HTTPError.self) { try URLEncodedForm.parse("a=1&b=2&c=3", limits: limits) }
        #expect(throws: HTTPError.self) { try URLEncodedForm.parse("a=123456", limits: limits) }
        #expect(throws: HTTPError.self) { try URLEncodedForm.parse(String(repeating: "&", count: 41), limits: limits) }
        #expect((try? URLEncodedForm.parse("a=12345&b=1", limits: limits))?.count == 2)
    }

    @Test("a request body that is not a form is 415")
    func mediaType() {
        let request = Request(method: .post, uri: "/x", headers: ["content-type": "application/json"], body: RequestBody(bytes: bytes("a=1")))
        let error = try? #require(throws: HTTPError.self) { try request.urlEncodedForm() }
        #expect(error?.status == .unsupportedMediaType)
        let ok = Request(method: .post, uri: "/x", headers: ["content-type": "application/x-www-form-urlencoded; charset=UTF-8"], body: RequestBody(bytes: bytes("a=1")))
        #expect((try? ok.urlEncodedForm())?["a"] == "1")
    }

    @Test("a body longer than the cap is refused by its declared length and by its bytes")
    func bodyCap() {
        let declared = RequestBody(stream: BufferBodyStream(bytes("0123456789")), declaredLength: 10)
        #expect(throws: HTTPError.self) { try declared.readAll(limit: 5) }
        let undeclared = RequestBody(stream: BufferBodyStream(bytes("0123456789"), pieceLimit: 3), declaredLength: nil)
        #expect(throws: HTTPError.self) { try undeclared.readAll(limit: 5) }
        let fine = RequestBody(stream: BufferBodyStream(bytes("0123456789"), pieceLimit: 3), declaredLength: nil)
        #expect((try? fine.readAll(limit: 10)) == bytes("0123456789"))
    }
}

@Suite("Cookies and JSON")
struct CookieAndJSONTests {
    @Test("cookie headers: first value wins, quotes removed, junk skipped")
    func cookies() {
        let c = Cookies.parse(["a=1; b=\"two\"; junk; a=3", "c=4"])
        #expect(c == ["a": "1", "b": "two", "c": "4"])
        #expect(Request(method: .get, uri: "/", headers: ["cookie": "sid=abc"]).cookies["sid"] == "abc")
    }

    @Test("Set-Cookie defaults are safe")
    func setCookie() {
        var cookie = SetCookie(name: "__Host-sid", value: "v", maxAge: 60, secure: true)
        cookie.sameSite = .strict
        #expect(cookie.headerValue == "__Host-sid=v; Path=/; Max-Age=60; HttpOnly; Secure; SameSite=Strict")
    }

    @Test("JSON escapes control characters and HTML-significant ones")
    func json() {
        let value: JSONValue = ["s": .string("a\"b\\c\n<script>&\u{1}"), "n": 5, "t": true, "z": .null, "l": [1, 2]]
        #expect(String(decoding: value.serialized(), as: UTF8.self)
                == #"{"s":"a\"b\\c\n\u003cscript\u003e\u0026\u0001","n":5,"t":true,"z":null,"l":[1,2]}"#)
    }
}
