/// The headers of one part of a `multipart/form-data` body (RFC 7578 §4.2).
public struct MultipartPart: Sendable {
    /// Every header of the part.
    public let headers: HTTPHeaders
    /// The form field name from `Content-Disposition: form-data; name="…"`.
    public let name: String
    /// The file name, for a file part; `filename*` (RFC 5987) wins over `filename`.
    public let filename: String?
    /// The part's `Content-Type`, if sent.
    public var contentType: String? { headers["content-type"] }
    /// Whether the part is a file rather than a plain field.
    public var isFile: Bool { filename != nil }

    /// Builds a part from its parsed header block; `offset` is where the block began.
    static func parse(headerBlock: [UInt8], offset: Int64) throws -> MultipartPart {
        guard let text = String(validating: headerBlock, as: UTF8.self) else {
            throw MultipartError("part headers are not valid UTF-8", at: offset)
        }
        var headers = HTTPHeaders()
        var lineOffset = offset
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: false) {
            defer { lineOffset += Int64(line.utf8.count + 2) }
            if line.isEmpty { continue }
            if line.first == " " || line.first == "\t" {
                throw MultipartError("folded part header lines are not allowed", at: lineOffset)
            }
            guard let colon = line.firstIndex(of: ":") else {
                throw MultipartError("part header line without a colon", at: lineOffset)
            }
            let name = line[..<colon]
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && $0 != " " && $0 != "\t" }) else {
                throw MultipartError("invalid part header name", at: lineOffset)
            }
            headers.add(String(name), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        guard let disposition = headers["content-disposition"] else {
            throw MultipartError("part has no Content-Disposition header", at: offset)
        }
        let (kind, params) = try HeaderParameters.parse(disposition, offset: offset)
        guard kind.lowercased() == "form-data" else {
            throw MultipartError("Content-Disposition is '\(kind)', expected 'form-data'", at: offset)
        }
        guard let name = params["name"] else {
            throw MultipartError("Content-Disposition has no name parameter", at: offset)
        }
        var filename = params["filename"].map(Self.decodeBrowserEscapes)
        if let extended = params["filename*"], let decoded = HeaderParameters.decodeRFC5987(extended) {
            filename = decoded
        }
        return MultipartPart(headers: headers, name: Self.decodeBrowserEscapes(name), filename: filename)
    }

    /// Browsers escape `"`, CR and LF in names and file names as `%22`, `%0D`, `%0A`
    /// (HTML "multipart/form-data encoding algorithm"); only those three are undone.
    static func decodeBrowserEscapes(_ s: String) -> String {
        guard s.utf8.contains(UInt8(ascii: "%")) else { return s }
        return s.replacingAll("%22", "\"").replacingAll("%0D", "\r").replacingAll("%0A", "\n")
    }
}

/// `value; key=token; key="quoted"` parameters, as in `Content-Disposition` and `Content-Type`.
enum HeaderParameters {
    static func parse(_ header: String, offset: Int64) throws -> (String, [String: String]) {
        let chars = Array(header.unicodeScalars)
        var i = 0
        func skipSpace() { while i < chars.count, chars[i] == " " || chars[i] == "\t" { i += 1 } }
        var value = ""
        while i < chars.count, chars[i] != ";" { value.unicodeScalars.append(chars[i]); i += 1 }
        var params: [String: String] = [:]
        while i < chars.count {
            i += 1  // the ';'
            skipSpace()
            if i >= chars.count { break }
            var key = ""
            while i < chars.count, chars[i] != "=", chars[i] != ";" { key.unicodeScalars.append(chars[i]); i += 1 }
            key = key.trimmingCharacters(in: .whitespaces).lowercased()
            guard i < chars.count, chars[i] == "=" else {
                if key.isEmpty { continue }
                throw MultipartError("header parameter '\(key)' has no value", at: offset)
            }
            i += 1
            skipSpace()
            var v = ""
            if i < chars.count, chars[i] == "\"" {
                i += 1
                var closed = false
                while i < chars.count {
                    let c = chars[i]
                    if c == "\\", i + 1 < chars.count { v.unicodeScalars.append(chars[i + 1]); i += 2; continue }
                    if c == "\"" { closed = true; i += 1; break }
                    v.unicodeScalars.append(c)
                    i += 1
                }
                guard closed else { throw MultipartError("unterminated quoted string in parameter '\(key)'", at: offset) }
                skipSpace()
            } else {
                while i < chars.count, chars[i] != ";" { v.unicodeScalars.append(chars[i]); i += 1 }
                v = v.trimmingCharacters(in: .whitespaces)
            }
            if params[key] == nil { params[key] = v }
        }
        return (value.trimmingCharacters(in: .whitespaces), params)
    }

    /// `UTF-8''na%C3%AFve.txt` → `naïve.txt` (RFC 5987 §3.2); other charsets are not accepted.
    static func decodeRFC5987(_ value: String) -> String? {
        let parts = value.split(separator: "'", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].lowercased() == "utf-8" else { return nil }
        return URLEncodedForm.decodePathSegment(parts[2])
    }
}

extension String {
    /// Every `target` replaced by `replacement`, compared scalar by scalar: by Characters, `%0D`
    /// followed by a combining mark (U+0301) would not match, its `D` being joined to the mark.
    func replacingAll(_ target: String, _ replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var result = String.UnicodeScalarView()
        var rest = Substring(self).unicodeScalars
        while let range = rest.firstRange(of: target.unicodeScalars) {
            result.append(contentsOf: rest[..<range.lowerBound])
            result.append(contentsOf: replacement.unicodeScalars)
            rest = rest[range.upperBound...]
        }
        result.append(contentsOf: rest)
        return String(result)
    }
}
