import Checksums
import Foundation
import Sodium
import Synchronization

/// A loopback stand-in for the Dropbox v2 endpoints Intake uses, speaking their documented wire
/// protocol: upload sessions on the content host (`upload_session/start`, `append_v2`, `finish`
/// with `Dropbox-API-Arg` JSON, `incorrect_offset` with `correct_offset` on a wrong cursor) and
/// `files/get_metadata`, `files/delete_v2` on the API host and `files/download` (with `Range`) on the
/// content host; for reconciliation `files/list_folder` (recursive or not, its folders implied by
/// the files' paths) and `files/list_folder/continue` in pages of at most `listPageLimit` entries
/// (2 unless set) while `has_more`, and `files/move_v2` (by id or path, `autorename` on a taken name). Bearer tokens are checked by the test's `authorize`. Switches
/// make the next chunks fail with a status (429 with `Retry-After: 2`), drop the connection, or keep
/// only part of a chunk and then drop it (so only `incorrect_offset` tells the client). Like the
/// front ends some deployments sit behind, it answers 411 to a `POST` without `Content-Length`,
/// body or not.
public final class FakeDropboxServer: @unchecked Sendable {  // `server` is set once in init; the rest is behind a Mutex
    public enum ChunkFailure: Sendable {
        /// This chunk goes through as usual (to fail a later one).
        case pass
        case status(Int)
        case drop
        case keepOnlyThenDrop(Int)
        /// Take the whole chunk (committing the file if it is the finish), then drop the
        /// connection: the answer is lost, not the bytes.
        case answerLost
    }

    public struct File: Sendable, Equatable {
        public let id: String
        public let path: String
        public let bytes: [UInt8]
    }

    private struct State {
        var files: [String: File] = [:]
        var sessions: [String: [UInt8]] = [:]
        var chunkFailures: [ChunkFailure] = []
        var downloadFailures: [LoopbackResponse.Behaviour] = []
        var corruptNext = 0
        var sessionsStarted = 0
        var downloadRanges: [String?] = []
        var counter = 0
        var chunkCalls = 0
        var incorrectOffsets = 0
        var lengthRefusals = 0
        var listPageLimit = 2
        /// Open listings: what each cursor has still to give.
        var cursors: [String: [ListEntry]] = [:]
        var resetNextContinue = false
        var listCalls = 0
        var moves = 0
    }

    /// An entry of a listing: a file, or a folder implied by a file's path.
    private struct ListEntry: Sendable {
        let tag: String
        let path: String
        let file: File?
    }

    private let state = Mutex(State())
    private let authorize: @Sendable (String) -> Bool
    private let identity: FakeOAuthServer?
    private var server: LoopbackHTTPServer!

    /// `identity`: the fake Dropbox OAuth server that answers `users/get_current_account` on this host.
    /// `keepAlive`: connections serve request after request (see `LoopbackHTTPServer`).
    public init(identity: FakeOAuthServer? = nil, keepAlive: Bool = false, authorize: @escaping @Sendable (String) -> Bool) throws {
        self.authorize = authorize
        self.identity = identity
        server = try LoopbackHTTPServer(keepAlive: keepAlive) { [unowned self] request in self.handle(request) }
    }

    public func stop() { server.stop() }
    /// For `INTAKE_DROPBOX_CONTENT_URL` (and the API calls, which share this fake).
    public var url: String { server.baseURL + "/2" }

    public func failNextChunks(_ failures: [ChunkFailure]) { state.withLock { $0.chunkFailures = failures } }
    public var files: [File] { state.withLock { Array($0.files.values) } }
    public var sessionsStarted: Int { state.withLock { $0.sessionsStarted } }
    /// The next `count` finished uploads are stored with one byte changed (`content_hash` is of what
    /// Dropbox holds, so a client that checks it notices).
    public func corruptNextUploads(_ count: Int) { state.withLock { $0.corruptNext = count } }

    /// The next `files/download` answers behave so (`.cutAfter(n)`, `.drop`), in order.
    public func failNextDownloads(_ failures: [LoopbackResponse.Behaviour]) { state.withLock { $0.downloadFailures = failures } }
    /// The `Range` header of every download so far (nil: none).
    public var downloadRanges: [String?] { state.withLock { $0.downloadRanges } }
    /// Puts a file straight into the Dropbox at `path` (`/Intake/…`), as its owner would.
    @discardableResult
    public func put(_ bytes: [UInt8], at path: String) -> File {
        state.withLock { s in
            s.counter += 1
            let file = File(id: "id:file\(s.counter)", path: path, bytes: bytes)
            s.files[file.id] = file
            return file
        }
    }
    /// Deletes a file for good, as its owner may behind Intake's back.
    public func remove(_ id: String) { state.withLock { _ = $0.files.removeValue(forKey: id) } }
    /// The most entries one listing page holds, whatever `limit` asks.
    public func setListPageLimit(_ limit: Int) { state.withLock { $0.listPageLimit = limit } }
    /// The next `list_folder/continue` is answered `reset`: the cursor is no longer valid.
    public func resetNextContinue() { state.withLock { $0.resetNextContinue = true } }
    /// `list_folder` and `list_folder/continue` calls so far.
    public var listCalls: Int { state.withLock { $0.listCalls } }
    /// Files moved by `move_v2` so far.
    public var moves: Int { state.withLock { $0.moves } }
    public var chunkCalls: Int { state.withLock { $0.chunkCalls } }
    public var incorrectOffsets: Int { state.withLock { $0.incorrectOffsets } }
    /// Requests refused with 411 for want of `Content-Length`.
    public var lengthRefusals: Int { state.withLock { $0.lengthRefusals } }

    private func handle(_ request: LoopbackRequest) -> LoopbackResponse {
        if request.lacksLength {
            state.withLock { $0.lengthRefusals += 1 }
            return .lengthRequired(request)
        }
        // The account and its grant live at the OAuth fake, as at Dropbox they share the API host.
        if request.path == "/2/users/get_current_account" || request.path == "/2/auth/token/revoke", let identity { return identity.handle(request) }
        guard let bearer = request.headers["authorization"], bearer.hasPrefix("Bearer "), authorize(String(bearer.dropFirst(7))) else {
            return error(401, ["error_summary": "expired_access_token/", "error": [".tag": "expired_access_token"]])
        }
        guard request.method == "POST" else { return error(405, ["error_summary": "method"]) }
        switch request.path {
        case "/2/files/list_folder", "/2/files/list_folder/continue", "/2/files/move_v2":
            guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any] else {
                return error(400, ["error_summary": "bad json"])
            }
            return request.path == "/2/files/move_v2" ? move(body) : list(body, continuing: request.path.hasSuffix("continue"))
        default: break
        }
        if request.path == "/2/files/delete_v2" || request.path == "/2/files/get_metadata" {
            guard let body = try? JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any], let id = body["path"] as? String else {
                return error(400, ["error_summary": "bad json"])
            }
            let delete = request.path.hasSuffix("delete_v2")
            // By id (`id:…`) or by path, case-insensitively, as Dropbox takes either.
            let found = state.withLock { s -> File? in
                guard let key = s.files[id] != nil ? id : s.files.values.first(where: { $0.path.lowercased() == id.lowercased() })?.id else { return nil }
                return delete ? s.files.removeValue(forKey: key) : s.files[key]
            }
            guard let found else {
                let tag = delete ? "path_lookup" : "path"
                return error(409, ["error_summary": "\(tag)/not_found/", "error": [".tag": tag, tag: [".tag": "not_found"]]])
            }
            var described = metadata(found)
            described[".tag"] = "file"
            return json(delete ? ["metadata": described] : described)
        }
        guard let header = request.headers["dropbox-api-arg"], header.unicodeScalars.allSatisfy({ $0.isASCII }),
              let argument = try? JSONSerialization.jsonObject(with: Data(header.utf8)) as? [String: Any] else {
            return error(400, ["error_summary": "Dropbox-API-Arg must be ASCII JSON"])
        }
        switch request.path {
        case "/2/files/download":
            guard let id = argument["path"] as? String else { return error(400, ["error_summary": "path"]) }
            let found: (File, LoopbackResponse.Behaviour)? = state.withLock { s in
                s.downloadRanges.append(request.headers["range"])
                return s.files[id].map { ($0, s.downloadFailures.isEmpty ? .respond : s.downloadFailures.removeFirst()) }
            }
            guard let (file, behaviour) = found else {
                return error(409, ["error_summary": "path/not_found/", "error": [".tag": "path", "path": [".tag": "not_found"]]])
            }
            let result = String(decoding: (try? JSONSerialization.data(withJSONObject: ["id": file.id, "size": file.bytes.count, "path_display": file.path])) ?? Data(),
                                as: UTF8.self)
            var response = LoopbackResponse.content(file.bytes, range: request.headers["range"], headers: [("Dropbox-API-Result", result)])
            response.behaviour = behaviour
            return response
        case "/2/files/upload_session/start":
            let id = state.withLock { s -> String in
                s.counter += 1
                let id = "session-\(s.counter)"
                s.sessions[id] = request.body
                s.sessionsStarted += 1
                return id
            }
            return json(["session_id": id])
        case "/2/files/upload_session/append_v2", "/2/files/upload_session/finish":
            return chunk(request, argument, finish: request.path.hasSuffix("finish"))
        default:
            return error(404, ["error_summary": "no such endpoint"])
        }
    }

    private func chunk(_ request: LoopbackRequest, _ argument: [String: Any], finish: Bool) -> LoopbackResponse {
        guard let cursor = argument["cursor"] as? [String: Any], let session = cursor["session_id"] as? String,
              let offset = (cursor["offset"] as? NSNumber)?.intValue else { return error(400, ["error_summary": "cursor"]) }
        var answerLost = false
        let outcome: LoopbackResponse? = state.withLock { s in
            s.chunkCalls += 1
            guard var held = s.sessions[session] else {
                return error(409, ["error_summary": "lookup_failed/not_found/", "error": [".tag": "lookup_failed", "lookup_failed": [".tag": "not_found"]]])
            }
            guard offset == held.count else {
                s.incorrectOffsets += 1
                let detail: [String: Any] = [".tag": "incorrect_offset", "correct_offset": held.count]
                return error(409, ["error_summary": "incorrect_offset/", "error": finish ? [".tag": "lookup_failed", "lookup_failed": detail] : detail])
            }
            if !s.chunkFailures.isEmpty {
                switch s.chunkFailures.removeFirst() {
                case .pass: break
                case .status(let status):
                    return error(status, ["error_summary": "too_many_requests/"], headers: status == 429 ? [("Retry-After", "2")] : [])
                case .drop: return LoopbackResponse(behaviour: .drop)
                case .keepOnlyThenDrop(let count):
                    held += request.body.prefix(count)
                    s.sessions[session] = held
                    return LoopbackResponse(behaviour: .drop)
                case .answerLost:
                    answerLost = true
                }
            }
            held += request.body
            s.sessions[session] = held
            return nil
        }
        if let outcome { return outcome }
        var response = finish ? commit(session, argument) : LoopbackResponse(status: 200, headers: [("Content-Type", "application/json")], body: Array("null".utf8))
        if answerLost { response.behaviour = .drop }
        return response
    }

    /// `finish`: the session's bytes become a file at the commit path (renamed if taken).
    private func commit(_ session: String, _ argument: [String: Any]) -> LoopbackResponse {
        guard let commit = argument["commit"] as? [String: Any], let path = commit["path"] as? String else { return error(400, ["error_summary": "commit"]) }
        let file = state.withLock { s -> File in
            var bytes = s.sessions.removeValue(forKey: session) ?? []
            if s.corruptNext > 0, !bytes.isEmpty {
                s.corruptNext -= 1
                bytes[bytes.count / 2] ^= 0xFF
            }
            var final = path
            var n = 1
            while s.files.values.contains(where: { $0.path.lowercased() == final.lowercased() }) {
                n += 1
                let dot = path.lastIndex(of: ".") ?? path.endIndex
                final = path[..<dot] + " (\(n))" + path[dot...]
            }
            s.counter += 1
            let file = File(id: "id:file\(s.counter)", path: final, bytes: bytes)
            s.files[file.id] = file
            return file
        }
        return json(metadata(file))
    }

    /// `list_folder` starts a listing of `path` (every entry below it with `recursive`, else its
    /// own), `list_folder/continue` goes on with a cursor; each answers one page.
    private func list(_ body: [String: Any], continuing: Bool) -> LoopbackResponse {
        let outcome: Result<(page: [ListEntry], cursor: String, more: Bool), ErrorAnswer> = state.withLock { s in
            s.listCalls += 1
            var entries: [ListEntry]
            if continuing {
                guard let cursor = body["cursor"] as? String, let rest = s.cursors.removeValue(forKey: cursor) else {
                    return .failure(ErrorAnswer(status: 400, body: ["error_summary": "invalid cursor"]))
                }
                if s.resetNextContinue {
                    s.resetNextContinue = false
                    return .failure(ErrorAnswer(status: 409, body: ["error_summary": "reset/..", "error": [".tag": "reset"]]))
                }
                entries = rest
            } else {
                guard let path = body["path"] as? String else { return .failure(ErrorAnswer(status: 400, body: ["error_summary": "path"])) }
                let recursive = body["recursive"] as? Bool ?? false
                let folder = path.lowercased()
                let under = s.files.values.filter { $0.path.lowercased().hasPrefix(folder + "/") }
                guard folder.isEmpty || !under.isEmpty else {
                    return .failure(ErrorAnswer(status: 409, body: ["error_summary": "path/not_found/..", "error": [".tag": "path", "path": [".tag": "not_found"]]]))
                }
                var folders = Set<String>()
                entries = []
                for file in under {
                    let components = file.path.dropFirst(path.count + 1).split(separator: "/").map(String.init)
                    guard recursive || components.count == 1 else {
                        folders.insert(path + "/" + components[0])
                        continue
                    }
                    entries.append(ListEntry(tag: "file", path: file.path, file: file))
                    var parent = path
                    for component in components.dropLast() {
                        parent += "/" + component
                        folders.insert(parent)
                    }
                }
                entries += folders.map { ListEntry(tag: "folder", path: $0, file: nil) }
                // A folder before what is in it, as Dropbox lists them.
                entries.sort { $0.path.lowercased() < $1.path.lowercased() }
            }
            let count = min(entries.count, s.listPageLimit)
            s.counter += 1
            let cursor = "cursor-\(s.counter)"
            s.cursors[cursor] = Array(entries[count...])
            return .success((Array(entries[..<count]), cursor, count < entries.count))
        }
        switch outcome {
        case .failure(let answer): return error(answer.status, answer.body)
        case .success(let listing):
            let entries: [[String: Any]] = listing.page.map { entry in
                if let file = entry.file {
                    var described = metadata(file)
                    described[".tag"] = "file"
                    return described
                }
                return [".tag": "folder", "name": String(entry.path.split(separator: "/").last ?? ""), "id": "id:folder-\(entry.path.lowercased())",
                        "path_display": entry.path, "path_lower": entry.path.lowercased()]
            }
            return json(["entries": entries, "cursor": listing.cursor, "has_more": listing.more])
        }
    }

    /// `move_v2`: the file (by id or path) gets the new path, its id kept; a taken path is an error,
    /// or with `autorename` gets " (2)", " (3)", … before its extension.
    private func move(_ body: [String: Any]) -> LoopbackResponse {
        guard let from = body["from_path"] as? String, let to = body["to_path"] as? String else { return error(400, ["error_summary": "from_path, to_path"]) }
        let autorename = body["autorename"] as? Bool ?? false
        let outcome: Result<File, ErrorAnswer> = state.withLock { s in
            guard let key = s.files[from] != nil ? from : s.files.values.first(where: { $0.path.lowercased() == from.lowercased() })?.id,
                  let file = s.files[key] else {
                return .failure(ErrorAnswer(status: 409, body: ["error_summary": "from_lookup/not_found/..",
                                                                "error": [".tag": "from_lookup", "from_lookup": [".tag": "not_found"]]]))
            }
            var final = to
            var n = 1
            while s.files.values.contains(where: { $0.id != key && $0.path.lowercased() == final.lowercased() }) {
                guard autorename else {
                    return .failure(ErrorAnswer(status: 409, body: ["error_summary": "to/conflict/file/..", "error": [".tag": "to", "to": [".tag": "conflict"]]]))
                }
                n += 1
                let dot = to.lastIndex(of: ".") ?? to.endIndex
                final = to[..<dot] + " (\(n))" + to[dot...]
            }
            let moved = File(id: file.id, path: final, bytes: file.bytes)
            s.files[key] = moved
            s.moves += 1
            return .success(moved)
        }
        switch outcome {
        case .failure(let answer): return error(answer.status, answer.body)
        case .success(let file):
            var described = metadata(file)
            described[".tag"] = "file"
            return json(["metadata": described])
        }
    }

    /// An error answer carried out of the lock.
    private struct ErrorAnswer: Error, @unchecked Sendable {  // a JSON value made and read on one thread
        let status: Int
        let body: [String: Any]
    }

    /// A file's metadata as Dropbox describes it, with the content hash of what it holds.
    private func metadata(_ file: File) -> [String: Any] {
        let hash = DropboxContentHash()
        file.bytes.withUnsafeBytes { hash.update($0) }
        return ["name": String(file.path.split(separator: "/").last ?? ""), "id": file.id, "path_display": file.path,
                "path_lower": file.path.lowercased(), "size": file.bytes.count, "content_hash": Sodium.hex(hash.finish())]
    }

    private func json(_ object: [String: Any], status: Int = 200, headers: [(String, String)] = []) -> LoopbackResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return LoopbackResponse(status: status, headers: headers + [("Content-Type", "application/json")], body: Array(data))
    }

    private func error(_ status: Int, _ object: [String: Any], headers: [(String, String)] = []) -> LoopbackResponse {
        json(object, status: status, headers: headers)
    }
}
