import Web

/// `POST /_debug/multipart`: each part's name, file name, size and FNV-1a 64 checksum.
/// Mounted only with `INTAKE_DEBUG_ROUTES=1`, for the integration tests: a body streamed through the
/// real parser, to test nginx → FastCGI → parser end to end with flat memory.
enum DebugMultipart {
    static func handle(_ context: RequestContext) throws -> Response {
        let request = context.request
        let boundary = try MultipartParser.boundary(fromContentType: request.headers["content-type"])
        var parser = try MultipartParser(boundary: boundary)
        struct Summary { var name: String; var filename: String?; var size: Int64 = 0; var hash: UInt64 = 0xcbf2_9ce4_8422_2325 }
        var parts: [Summary] = []
        try parser.parse(request.body) { event in
            switch event {
            case .partBegin(let part): parts.append(Summary(name: part.name, filename: part.filename))
            case .body(let bytes):
                var h = parts[parts.count - 1].hash
                for b in bytes { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
                parts[parts.count - 1].hash = h
                parts[parts.count - 1].size += Int64(bytes.count)
            case .partEnd: break
            }
        }
        return .json(["parts": .array(parts.map { p in
            ["name": .string(p.name), "filename": p.filename.map(JSONValue.string) ?? .null,
             "size": .int(p.size), "fnv1a64": .string(String(p.hash, radix: 16))]
        })])
    }
}
