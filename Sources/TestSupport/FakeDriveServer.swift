import Checksums
import Foundation
import Sodium
import Synchronization

/// A loopback stand-in for the Google Drive v3 endpoints Intake uses, speaking their documented
/// wire protocol: `files.list` with a `q` query for a folder by name and parent, or for all of a
/// folder's items, in pages of at most `listPageLimit` (2 unless set: Drive may answer with fewer
/// than `pageSize`, and paging is what a client must get right) chained by `nextPageToken`,
/// `files.create` for folders, `files.update` moving an item with `addParents`/`removeParents`
/// (one parent at a time, as Drive now allows), resumable uploads (session start answered with `Location`; chunk PUTs with
/// `Content-Range`, answered 308 with `Range` until the last one, `bytes */N` status queries) and
/// `files.get` (metadata with `fields`, or the content with `alt=media` and `Range`) and
/// `files.delete`. Bearer tokens are checked by the test's `authorize`. Switches make the next
/// chunks fail with a status (429 with `Retry-After: 2`), one of Drive's documented 403 refusals,
/// drop the connection, or keep only part of a chunk; downloads can be cut short or answered with
/// a status, and items can be trashed. Like Google's front end, it answers 411 to a `POST` or
/// `PUT` without `Content-Length`, body or not.
public final class FakeDriveServer: @unchecked Sendable {  // `server` is set once in init; the rest is behind a Mutex
    /// The 403 reasons of Drive's "Resolve errors" guide that Intake tells apart, each answered
    /// with the body Google sends for it.
    public enum Forbidden: String, Sendable {
        /// Per-user quota: back off and retry.
        case userRateLimitExceeded
        /// Drive's own rate limit: back off and retry.
        case rateLimitExceeded
        /// The Drive is full.
        case storageQuotaExceeded
        /// The grant lacks a scope the call needs (the newer shape, with `status` and `details`).
        case insufficientPermissions
    }

    public enum ChunkFailure: Sendable {
        /// This chunk goes through as usual (to fail a later one).
        case pass
        case status(Int)
        /// 403 with Drive's body for the reason, and `Retry-After` when given.
        case forbidden(Forbidden, retryAfter: Int? = nil)
        /// Read the chunk, then close the connection without answering (nothing is kept).
        case drop
        /// Keep only this many bytes of the chunk, then answer 308 as if the rest was lost.
        case keepOnly(Int)
        /// Take the whole chunk (finishing the file if it is the last), then drop the connection:
        /// the answer is lost, not the bytes.
        case answerLost
    }

    public struct Item: Sendable, Equatable {
        public let id: String
        public let name: String
        public var parent: String
        public let mimeType: String
        public let bytes: [UInt8]
        public var trashed = false
        /// The Google account whose token uploaded it (with `accountOf`; nil otherwise).
        public var owner: String? = nil
    }

    private struct Session {
        var name: String
        var parent: String
        var mimeType: String
        var total: Int
        var fields: String?
        var owner: String?
        var bytes: [UInt8] = []
    }

    private struct State {
        var items: [String: Item] = [:]
        var sessions: [String: Session] = [:]
        var chunkFailures: [ChunkFailure] = []
        var sessionStartRefusals: [Forbidden] = []
        var downloadFailures: [LoopbackResponse.Behaviour] = []
        var corruptNext = 0
        var chunkDelay: Double = 0
        /// Items whose content arrives with a byte changed, as a faulty link would deliver it.
        var corruptedDownloads: Set<String> = []
        var downloadDelay: Double = 0
        /// Finished sessions: Drive answers them with the file's metadata, as it does for a
        /// client that lost the final answer.
        var completed: [String: (fileID: String, fields: String?)] = [:]
        var sessionsStarted = 0
        var downloadRanges: [String?] = []
        var counter = 0
        var chunkPuts = 0
        var statusQueries = 0
        var unauthorized = 0
        var lengthRefusals = 0
        var listPageLimit = 2
        var listCalls = 0
        var moves = 0
    }

    private let state = Mutex(State())
    private let authorize: @Sendable (String) -> Bool
    private let accountOf: @Sendable (String) -> String?
    private var server: LoopbackHTTPServer!

    /// `keepAlive`: connections serve request after request (see `LoopbackHTTPServer`).
    /// `accountOf` names the Google account of a bearer token, recorded as each upload's `owner`.
    public init(keepAlive: Bool = false, authorize: @escaping @Sendable (String) -> Bool,
                accountOf: @escaping @Sendable (String) -> String? = { _ in nil }) throws {
        self.authorize = authorize
        self.accountOf = accountOf
        server = try LoopbackHTTPServer(keepAlive: keepAlive) { [unowned self] request in self.handle(request) }
    }

    public func stop() { server.stop() }
    public var baseURL: String { server.baseURL }
    /// For `INTAKE_GOOGLE_API_URL` and `INTAKE_GOOGLE_UPLOAD_URL`.
    public var apiURL: String { server.baseURL + "/drive/v3" }
    public var uploadURL: String { server.baseURL + "/upload/drive/v3" }

    public func failNextChunks(_ failures: [ChunkFailure]) { state.withLock { $0.chunkFailures = failures } }
    /// The next resumable session starts are refused with these 403s, in order (Drive checks the
    /// declared size against the quota before any byte is sent).
    public func refuseNextSessionStarts(_ reasons: [Forbidden]) { state.withLock { $0.sessionStartRefusals = reasons } }
    public var items: [Item] { state.withLock { Array($0.items.values) } }
    /// The next `count` uploads are stored with one byte changed (the checksums Drive reports are
    /// of what it holds, so a client that checks them notices).
    public func corruptNextUploads(_ count: Int) { state.withLock { $0.corruptNext = count } }
    /// Every chunk is answered only after this many seconds (a slow link, to stop a worker mid-transfer).
    public func delayChunks(_ seconds: Double) { state.withLock { $0.chunkDelay = seconds } }
    /// Every `alt=media` answer of these items has one byte changed on the way (the item itself
    /// stays intact), until set again.
    public func corruptDownloads(of ids: Set<String>) { state.withLock { $0.corruptedDownloads = ids } }
    /// Each `alt=media` answer waits this long first.
    public func delayDownloads(_ seconds: Double) { state.withLock { $0.downloadDelay = seconds } }
    public var sessionsStarted: Int { state.withLock { $0.sessionsStarted } }
    /// The bytes each open upload session holds so far.
    public var sessionBytes: [Int] { state.withLock { $0.sessions.values.map(\.bytes.count) } }

    /// The next `alt=media` answers behave so (`.cutAfter(n)`, `.drop`), in order.
    public func failNextDownloads(_ failures: [LoopbackResponse.Behaviour]) { state.withLock { $0.downloadFailures = failures } }
    /// The `Range` header of every content request so far (nil: none).
    public var downloadRanges: [String?] { state.withLock { $0.downloadRanges } }
    /// Moves an item to the bin: `files.get` still finds it, with `trashed: true`.
    public func trash(_ id: String) { state.withLock { $0.items[id]?.trashed = true } }
    /// Deletes an item for good (not to the bin), as its owner may behind Intake's back.
    public func remove(_ id: String) { state.withLock { _ = $0.items.removeValue(forKey: id) } }
    /// Puts a file straight into the Drive, as its owner or another app would: in the folders of
    /// `folders` from the root (found by name, made where missing). Returns its id.
    @discardableResult
    public func put(_ bytes: [UInt8], named name: String, in folders: [String], mimeType: String = "application/octet-stream") -> String {
        state.withLock { s in
            var parent = "root"
            for folder in folders {
                if let found = s.items.values.filter({ $0.name == folder && $0.parent == parent && $0.mimeType == "application/vnd.google-apps.folder" && !$0.trashed })
                    .map(\.id).sorted().first {
                    parent = found
                } else {
                    s.counter += 1
                    s.items["folder-\(s.counter)"] = Item(id: "folder-\(s.counter)", name: folder, parent: parent, mimeType: "application/vnd.google-apps.folder", bytes: [])
                    parent = "folder-\(s.counter)"
                }
            }
            s.counter += 1
            s.items["file-\(s.counter)"] = Item(id: "file-\(s.counter)", name: name, parent: parent, mimeType: mimeType, bytes: bytes)
            return "file-\(s.counter)"
        }
    }
    /// The most items one `files.list` page holds, whatever `pageSize` asks.
    public func setListPageLimit(_ limit: Int) { state.withLock { $0.listPageLimit = limit } }
    /// `files.list` requests answered so far (pages included).
    public var listCalls: Int { state.withLock { $0.listCalls } }
    /// Items moved by `files.update` so far.
    public var moves: Int { state.withLock { $0.moves } }
    public var chunkPuts: Int { state.withLock { $0.chunkPuts } }
    public var statusQueries: Int { state.withLock { $0.statusQueries } }
    public var unauthorizedCalls: Int { state.withLock { $0.unauthorized } }
    /// Requests refused with 411 for want of `Content-Length`.
    public var lengthRefusals: Int { state.withLock { $0.lengthRefusals } }

    /// The names from the Drive's root down to an item: `["Intake", "Portal", "file.pdf"]`.
    public func path(of id: String) -> [String] {
        state.withLock { s in
            var names: [String] = []
            var current = s.items[id]
            while let item = current {
                names.insert(item.name, at: 0)
                current = s.items[item.parent]
            }
            return names
        }
    }

    private func handle(_ request: LoopbackRequest) -> LoopbackResponse {
        if request.lacksLength {
            state.withLock { $0.lengthRefusals += 1 }
            return .lengthRequired(request)
        }
        let bearer = request.headers["authorization"].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let bearer, authorize(bearer) else {
            state.withLock { $0.unauthorized += 1 }
            return error(401, "authError", "Invalid Credentials")
        }
        switch (request.method, request.path) {
        case ("GET", "/drive/v3/files"): return list(request)
        case ("POST", "/drive/v3/files"): return createFolder(request)
        case ("POST", "/upload/drive/v3/files") where request.query["uploadType"] == "resumable": return startSession(request, owner: accountOf(bearer))
        case ("PUT", "/upload/drive/v3/files"): return chunk(request)
        case ("GET", _) where request.path.hasPrefix("/drive/v3/files/"): return get(request, id: String(request.path.dropFirst("/drive/v3/files/".count)))
        case ("PATCH", _) where request.path.hasPrefix("/drive/v3/files/"): return update(request, id: String(request.path.dropFirst("/drive/v3/files/".count)))
        case ("DELETE", _) where request.path.hasPrefix("/drive/v3/files/"):
            let id = String(request.path.dropFirst("/drive/v3/files/".count))
            let removed = state.withLock { $0.items.removeValue(forKey: id) }
            return removed == nil ? error(404, "notFound", "File not found: \(id).") : LoopbackResponse(status: 204)
        default: return error(404, "notFound", "no such endpoint")
        }
    }

    /// `files.get`: the fields asked for, or with `alt=media` the content (a range of it on request).
    private func get(_ request: LoopbackRequest, id: String) -> LoopbackResponse {
        let found: (Item, LoopbackResponse.Behaviour?)? = state.withLock { s in
            guard let item = s.items[id] else { return nil }
            guard request.query["alt"] == "media" else { return (item, nil) }
            s.downloadRanges.append(request.headers["range"])
            return (item, s.downloadFailures.isEmpty ? .respond : s.downloadFailures.removeFirst())
        }
        guard let (item, behaviour) = found else { return error(404, "notFound", "File not found: \(id).") }
        guard let behaviour else {
            let all: [String: Any] = ["id": item.id, "name": item.name, "mimeType": item.mimeType, "size": String(item.bytes.count), "trashed": item.trashed,
                                      "parents": [item.parent]]
            let fields = Set((request.query["fields"] ?? "id,name,mimeType").split(separator: ",").map(String.init))
            return json(all.filter { fields.contains($0.key) })
        }
        let (corrupt, delay) = state.withLock { ($0.corruptedDownloads.contains(id), $0.downloadDelay) }
        if delay > 0 { Thread.sleep(forTimeInterval: delay) }
        var bytes = item.bytes
        if corrupt && !bytes.isEmpty { bytes[bytes.count / 2] ^= 0x5A }
        var response = LoopbackResponse.content(bytes, range: request.headers["range"], headers: [("Content-Type", item.mimeType)])
        response.behaviour = behaviour
        return response
    }

    /// The query shapes Intake sends, neither looking in the bin: a folder by name in a parent, or
    /// every item in a parent. A page holds at most `pageSize` (100 by default, as Drive's) and
    /// `listPageLimit` items in id order; `nextPageToken` names where the next page starts. The
    /// fields asked for inside `files(…)` are the ones given (`size` only for files, as a string).
    private func list(_ request: LoopbackRequest) -> LoopbackResponse {
        let quoted = #"'((?:[^'\\]|\\.)*)'"#
        let q = request.query["q"] ?? ""
        func match(_ pattern: String) -> [String]? {
            guard let regex = try? NSRegularExpression(pattern: pattern),
                  let found = regex.firstMatch(in: q, range: NSRange(q.startIndex..., in: q)) else { return nil }
            return (1..<found.numberOfRanges).compactMap { Range(found.range(at: $0), in: q).map { Self.unescape(String(q[$0])) } }
        }
        let name: String?, parent: String
        if let groups = match("^name = \(quoted) and mimeType = 'application/vnd.google-apps.folder' and \(quoted) in parents and trashed = false$"),
           groups.count == 2 {
            (name, parent) = (groups[0], groups[1])
        } else if let groups = match("^\(quoted) in parents and trashed = false$"), groups.count == 1 {
            (name, parent) = (nil, groups[0])
        } else {
            return error(400, "invalid", "Invalid Value")
        }
        let pageSize = request.query["pageSize"].map { Int($0) ?? 0 } ?? 100
        guard (1...1000).contains(pageSize) else { return error(400, "invalid", "Invalid Value") }
        var start = 0
        if let token = request.query["pageToken"] {
            guard token.hasPrefix("page:"), let offset = Int(token.dropFirst(5)) else { return error(400, "invalid", "Invalid Value") }
            start = offset
        }
        let (page, more): ([Item], Bool) = state.withLock { s in
            s.listCalls += 1
            let found = s.items.values.filter { item in
                item.parent == parent && !item.trashed && (name == nil || (item.name == name && item.mimeType == "application/vnd.google-apps.folder"))
            }.sorted { $0.id < $1.id }
            let end = min(found.count, start + min(pageSize, s.listPageLimit))
            return (start < end ? Array(found[start..<end]) : [], end < found.count)
        }
        let fields = request.query["fields"] ?? "files(id,name,mimeType)"
        let asked: Set<String> = {
            guard let open = fields.range(of: "files("), let close = fields[open.upperBound...].firstIndex(of: ")") else { return ["id", "name", "mimeType"] }
            return Set(fields[open.upperBound..<close].split(separator: ",").map(String.init))
        }()
        let files: [[String: Any]] = page.map { item in
            var all: [String: Any] = ["id": item.id, "name": item.name, "mimeType": item.mimeType]
            if item.mimeType != "application/vnd.google-apps.folder" { all["size"] = String(item.bytes.count) }
            return all.filter { asked.contains($0.key) }
        }
        var answer: [String: Any] = ["kind": "drive#fileList", "files": files]
        if more { answer["nextPageToken"] = "page:\(start + page.count)" }
        return json(answer)
    }

    /// `files.update` of metadata: moved with `addParents` and `removeParents` (a folder that
    /// exists, and exactly one parent afterwards, or Drive's `cannotAddParent`); answers with
    /// the fields asked for.
    private func update(_ request: LoopbackRequest, id: String) -> LoopbackResponse {
        let add = (request.query["addParents"] ?? "").split(separator: ",").map(String.init)
        let remove = Set((request.query["removeParents"] ?? "").split(separator: ",").map(String.init))
        let outcome: Result<Item, LoopbackResponseBox> = state.withLock { s in
            guard var item = s.items[id] else { return .failure(LoopbackResponseBox(error(404, "notFound", "File not found: \(id).")) ) }
            for parent in add where parent != "root" && s.items[parent]?.mimeType != "application/vnd.google-apps.folder" {
                return .failure(LoopbackResponseBox(error(404, "notFound", "File not found: \(parent).")))
            }
            var parents = Set([item.parent]).subtracting(remove)
            parents.formUnion(add)
            guard parents.count == 1, let parent = parents.first else {
                return .failure(LoopbackResponseBox(error(403, "cannotAddParent", "Increasing the number of parents is not allowed.")))
            }
            if parent != item.parent { s.moves += 1 }
            item.parent = parent
            s.items[id] = item
            return .success(item)
        }
        switch outcome {
        case .failure(let box): return box.response
        case .success(let item):
            let all: [String: Any] = ["id": item.id, "name": item.name, "mimeType": item.mimeType, "parents": [item.parent]]
            let fields = Set((request.query["fields"] ?? "id,name,mimeType").split(separator: ",").map(String.init))
            return json(all.filter { fields.contains($0.key) })
        }
    }

    /// An error answer carried through a `Result`.
    private struct LoopbackResponseBox: Error { let response: LoopbackResponse; init(_ response: LoopbackResponse) { self.response = response } }

    private func createFolder(_ request: LoopbackRequest) -> LoopbackResponse {
        guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any], let name = body["name"] as? String,
              let mimeType = body["mimeType"] as? String else { return error(400, "parseError", "Parse Error") }
        let parent = (body["parents"] as? [String])?.first ?? "root"
        let id = state.withLock { s -> String in
            s.counter += 1
            let id = "folder-\(s.counter)"
            s.items[id] = Item(id: id, name: name, parent: parent, mimeType: mimeType, bytes: [])
            return id
        }
        return json(["id": id])
    }

    private func startSession(_ request: LoopbackRequest, owner: String?) -> LoopbackResponse {
        guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any], let name = body["name"] as? String,
              let total = request.headers["x-upload-content-length"].flatMap({ Int($0) }) else {
            return error(400, "parseError", "Parse Error")
        }
        if let refusal = state.withLock({ $0.sessionStartRefusals.isEmpty ? nil : $0.sessionStartRefusals.removeFirst() }) {
            return forbidden(refusal)
        }
        let parent = (body["parents"] as? [String])?.first ?? "root"
        let mimeType = request.headers["x-upload-content-type"] ?? "application/octet-stream"
        let id = state.withLock { s -> String in
            s.counter += 1
            let id = "upload-\(s.counter)"
            s.sessions[id] = Session(name: name, parent: parent, mimeType: mimeType, total: total, fields: request.query["fields"], owner: owner)
            s.sessionsStarted += 1
            return id
        }
        return LoopbackResponse(status: 200, headers: [("Location", "\(baseURL)/upload/drive/v3/files?uploadType=resumable&upload_id=\(id)")])
    }

    private func chunk(_ request: LoopbackRequest) -> LoopbackResponse {
        guard let uploadID = request.query["upload_id"], let range = request.headers["content-range"], range.hasPrefix("bytes ") else {
            return error(400, "badRequest", "Content-Range required")
        }
        let spec = range.dropFirst("bytes ".count)
        let parts = spec.split(separator: "/", maxSplits: 1)
        enum Outcome { case response(LoopbackResponse), respond(Session, String), respondThenDrop(Session, String) }
        let outcome: Outcome = state.withLock { s in
            guard let session = s.sessions[uploadID] else {
                if let done = s.completed[uploadID], let item = s.items[done.fileID] {
                    if parts.first == "*" { s.statusQueries += 1 }
                    return .response(metadata(item, fields: done.fields))
                }
                return .response(error(404, "notFound", "upload session not found"))
            }
            guard parts.count == 2, Int(parts[1]) == session.total else { return .response(error(400, "badRequest", "total mismatch")) }
            if parts[0] == "*" {
                s.statusQueries += 1
                return .respond(session, uploadID)
            }
            s.chunkPuts += 1
            let bounds = parts[0].split(separator: "-").compactMap { Int($0) }
            guard bounds.count == 2, bounds[0] == session.bytes.count, bounds[1] - bounds[0] + 1 == request.body.count,
                  bounds[1] < session.total else {
                return .response(error(400, "badRequest", "chunk does not continue the session"))
            }
            if !s.chunkFailures.isEmpty {
                switch s.chunkFailures.removeFirst() {
                case .pass:
                    s.sessions[uploadID]!.bytes += request.body
                    return .respond(s.sessions[uploadID]!, uploadID)
                case .status(429):
                    var response = error(429, "rateLimitExceeded", "Rate Limit Exceeded")
                    response.headers.append(("Retry-After", "2"))
                    return .response(response)
                case .status(let status): return .response(error(status, "backendError", "Backend Error"))
                case .forbidden(let reason, let retryAfter):
                    var response = forbidden(reason)
                    if let retryAfter { response.headers.append(("Retry-After", String(retryAfter))) }
                    return .response(response)
                case .drop: return .response(LoopbackResponse(behaviour: .drop))
                case .keepOnly(let count):
                    s.sessions[uploadID]!.bytes += request.body.prefix(count)
                    return .respond(s.sessions[uploadID]!, uploadID)
                case .answerLost:
                    s.sessions[uploadID]!.bytes += request.body
                    return .respondThenDrop(s.sessions[uploadID]!, uploadID)
                }
            }
            // In place: a copy of the session would copy every byte it holds, at every chunk.
            s.sessions[uploadID]!.bytes += request.body
            return .respond(s.sessions[uploadID]!, uploadID)
        }
        let delay = state.withLock { $0.chunkDelay }
        if case .respond = outcome, delay > 0, parts[0] != "*" { Thread.sleep(forTimeInterval: delay) }
        switch outcome {
        case .response(let response): return response
        case .respondThenDrop(let session, let uploadID):
            var response = answer(session, uploadID)
            response.behaviour = .drop
            return response
        case .respond(let session, let uploadID):
            return answer(session, uploadID)
        }
    }

    /// 308 with the bytes held, or the finished file's metadata.
    private func answer(_ session: Session, _ uploadID: String) -> LoopbackResponse {
        guard session.bytes.count == session.total else {
            return LoopbackResponse(status: 308, headers: session.bytes.isEmpty ? [] : [("Range", "bytes=0-\(session.bytes.count - 1)")])
        }
        let item = state.withLock { s -> Item in
            s.sessions.removeValue(forKey: uploadID)
            s.counter += 1
            let id = "file-\(s.counter)"
            var bytes = session.bytes
            if s.corruptNext > 0, !bytes.isEmpty {
                s.corruptNext -= 1
                bytes[bytes.count / 2] ^= 0xFF
            }
            s.items[id] = Item(id: id, name: session.name, parent: session.parent, mimeType: session.mimeType, bytes: bytes, owner: session.owner)
            s.completed[uploadID] = (id, session.fields)
            return s.items[id]!
        }
        return metadata(item, fields: session.fields)
    }

    /// A stored file as a finished upload answers: the fields the session asked for, with the
    /// checksums of what Drive holds.
    private func metadata(_ item: Item, fields: String?) -> LoopbackResponse {
        let asked = Set((fields ?? "id").split(separator: ",").map(String.init))
        let all: [String: Any] = ["id": item.id, "size": String(item.bytes.count), "sha256Checksum": Sodium.hex(StreamingDigest.digest(.sha256, item.bytes)),
                                  "md5Checksum": Sodium.hex(StreamingDigest.digest(.md5, item.bytes))]
        return json(all.filter { asked.contains($0.key) })
    }

    static func unescape(_ text: String) -> String {
        var out = ""
        var escaped = false
        for c in text {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }

    private func json(_ object: [String: Any], status: Int = 200) -> LoopbackResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return LoopbackResponse(status: status, headers: [("Content-Type", "application/json; charset=UTF-8")], body: Array(data))
    }

    /// Drive's error shape: `{"error":{"code":…,"message":…,"errors":[{"reason":…}]}}`.
    private func error(_ status: Int, _ reason: String, _ message: String) -> LoopbackResponse {
        json(["error": ["code": status, "message": message, "errors": [["reason": reason, "message": message]]]], status: status)
    }

    /// A 403 as Google words it (https://developers.google.com/drive/api/guides/handle-errors):
    /// the rate limits and the full Drive in the classic shape (`errors[]` with `domain` and
    /// `reason`), the missing scope in the newer one that adds `status` and `details[].reason`.
    private func forbidden(_ reason: Forbidden) -> LoopbackResponse {
        let body: [String: Any]
        switch reason {
        case .userRateLimitExceeded, .rateLimitExceeded:
            let message = reason == .userRateLimitExceeded
                ? "User Rate Limit Exceeded. Rate of requests for user exceed configured project quota." : "Rate Limit Exceeded"
            body = ["errors": [["domain": "usageLimits", "reason": reason.rawValue, "message": message]], "code": 403, "message": message]
        case .storageQuotaExceeded:
            let message = "The user's Drive storage quota has been exceeded."
            body = ["errors": [["domain": "usageLimits", "reason": reason.rawValue, "message": message]], "code": 403, "message": message]
        case .insufficientPermissions:
            body = ["code": 403, "message": "Request had insufficient authentication scopes.",
                    "errors": [["message": "Insufficient Permission", "domain": "global", "reason": reason.rawValue]],
                    "status": "PERMISSION_DENIED",
                    "details": [["@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                                 "domain": "googleapis.com", "metadata": ["service": "drive.googleapis.com"]]]]
        }
        return json(["error": body], status: 403)
    }
}
