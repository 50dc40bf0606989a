import Testing
@testable import Web

@Suite("Cookies")
struct CookiesTests {
    @Test("Cookie headers: pairs split at ';', spaces and tabs trimmed, quotes removed, the first of a name kept", arguments: [
        (["a=1; b=2"], ["a": "1", "b": "2"]),
        (["  a = 1 ;\tb=\"two words\"  "], ["a": "1", "b": "two words"]),
        (["a=1; a=2", "a=3; c=4"], ["a": "1", "c": "4"]),
        (["novalue; =nameless; d=; e==x=y"], ["d": "", "e": "=x=y"]),
        (["q=\""], ["q": "\""]), (["q=\"\""], ["q": ""]),
        (["café=crème brûlée; ü=1"], ["café": "crème brûlée", "ü": "1"]),
        ([";;;", ""], [:]),
    ])
    func parse(headers: [String], expected: [String: String]) {
        #expect(Cookies.parse(headers) == expected)
    }

    @Test("a request's cookies come from all its Cookie headers")
    func request() {
        var headers = HTTPHeaders()
        headers.add("Cookie", "a=1")
        headers.add("accept", "text/html")
        headers.add("cookie", "b=2; a=9")
        let request = Request(method: .get, uri: "/x?y=1", headers: headers)
        #expect(request.cookies == ["a": "1", "b": "2"])
        #expect(request.path == "/x" && request.rawQuery == "y=1")
        #expect(Request(method: .get, uri: "?q").path == "/" && Request(method: .get, uri: "/é?").rawQuery.isEmpty)
    }

    @Test("header names are found whatever their case, stored lower-cased")
    func headerCase() {
        var headers: HTTPHeaders = ["Content-Type": "text/plain", "X-Ünïcode": "1"]
        #expect(headers["content-type"] == "text/plain" && headers["CONTENT-TYPE"] == "text/plain")
        #expect(headers.map(\.name) == ["content-type", "x-ünïcode"])
        headers.set("CONTENT-type", "application/json")
        headers.add("set-cookie", "a=1")
        headers.add("Set-Cookie", "b=2")
        #expect(headers.map(\.name) == ["x-ünïcode", "content-type", "set-cookie", "set-cookie"])
        #expect(headers.values("SET-COOKIE") == ["a=1", "b=2"])
        headers.remove("Set-cookie")
        #expect(!headers.contains("set-cookie") && headers.contains("X-ÜNÏCODE"))
    }
}
