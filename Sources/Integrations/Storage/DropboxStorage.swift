import Checksums
import Curl
import Foundation
import Sodium
#if canImport(Glibc)
import Glibc
#endif

/// Dropbox (API v2) as a `StorageProvider`.
///
/// Files go up through an upload session: `upload_session/start`, then `append_v2` with chunks
/// of 8 MiB read straight from the spool, then `finish`, which commits the file to
/// `/Intake/<folder>/<name>` (folders appear on their own; a taken name is renamed by Dropbox,
/// never overwritten). A chunk whose fate is unknown (a dropped connection, 5xx, 429) is sent
/// again; if part of it had landed, Dropbox answers `incorrect_offset` with the offset it holds
/// and sending goes on from there. A 401 gets one fresh access token.
/// https://www.dropbox.com/developers/documentation/http/documentation#files-upload_session-start
public struct DropboxStorage: StorageProvider {
    public static let defaultChunkSize: Int64 = 8 * 1024 * 1024

    /// `https://api.dropboxapi.com/2` and `https://content.dropboxapi.com/2`, or a test's fake.
    let apiURL: String
    let contentURL: String
    let chunkSize: Int64
    let calls: ProviderCalls

    public init(apiURL: String, contentURL: String, client: CurlClient, chunkSize: Int64 = defaultChunkSize,
                retry: RetryPolicy = RetryPolicy(), sleep: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) },
                token: @escaping (_ refresh: Bool) throws -> String) {
        precondition(chunkSize > 0 && chunkSize % (4 * 1024 * 1024) == 0, "Dropbox chunks are a multiple of 4 MiB")
        self.apiURL = apiURL
        self.contentURL = contentURL
        self.chunkSize = chunkSize
        calls = ProviderCalls(name: "Dropbox", client: client, retry: retry, sleep: sleep, token: token, errors: ProviderErrors(detail: Self.summary))
    }

    public func store(spoolPath: String, length: Int64, fileName: String, contentType: String, folder: [String],
                      resume: ProviderSession?, checkpoint: (ProviderSession) throws -> Void) throws -> StoredFile {
        let path = "/" + (["Intake"] + folder + [fileName]).map(Self.component).joined(separator: "/")
        if let id = resume?.id, resume?.provider == "dropbox", let offset = resume?.offset, offset <= length {
            // A session from before: go on at the offset it was known to hold (incorrect_offset
            // corrects it); a session Dropbox no longer has means starting over.
            do {
                return try send(session: id, from: offset, spoolPath: spoolPath, length: length, path: path, checkpoint: checkpoint)
            } catch let error as StorageProviderError where error.sessionLost {}
        }
        var renewed = false
        let start = try content("upload_session/start", argument: ["close": false], body: .none, renewed: &renewed)
        guard start.status == 200 else { throw failure("upload start", start) }
        guard let session = try calls.object(start.body)["session_id"] as? String else {
            throw StorageProviderError("Dropbox started no upload session", transient: true)
        }
        try checkpoint(ProviderSession(provider: "dropbox", id: session, offset: 0))
        return try send(session: session, from: 0, spoolPath: spoolPath, length: length, path: path, checkpoint: checkpoint)
    }

    /// Appends the spool from `offset` in chunks, then finishes the session into `path`.
    func send(session: String, from start: Int64, spoolPath: String, length: Int64, path: String,
              checkpoint: (ProviderSession) throws -> Void) throws -> StoredFile {
        var renewed = false
        var offset = start
        while true {
            let count = min(chunkSize, length - offset)
            let last = offset + count == length
            let cursor: [String: Any] = ["session_id": session, "offset": offset]
            let body: HTTPRequest.Body = count > 0 ? .file(path: spoolPath, offset: offset, length: count) : .none
            let response = last
                ? try content("upload_session/finish", argument: ["cursor": cursor, "commit": ["path": path, "mode": "add", "autorename": true]],
                              body: body, renewed: &renewed)
                : try content("upload_session/append_v2", argument: ["cursor": cursor, "close": false], body: body, renewed: &renewed)
            switch response.status {
            case 200 where last:
                let json = try calls.object(response.body)
                guard let id = json["id"] as? String else { throw StorageProviderError("Dropbox finished without a file id", transient: true) }
                let size = (json["size"] as? NSNumber)?.int64Value ?? length
                guard size == length else { throw StorageProviderError("Dropbox holds \(size) bytes of \(length)", transient: true) }
                var checksums: [String: String] = [:]
                if let hash = json["content_hash"] as? String { checksums["dropbox-content-hash"] = hash.lowercased() }
                return StoredFile(fileID: id, path: String((json["path_display"] as? String ?? path).dropFirst()), size: size, checksums: checksums)
            case 200:
                offset += count
                try checkpoint(ProviderSession(provider: "dropbox", id: session, offset: offset))
            case 409:
                // Part of a chunk landed before the failure: go on from what Dropbox holds.
                if let held = Self.correctOffset(response.body), held <= length, held != offset {
                    offset = held
                    try checkpoint(ProviderSession(provider: "dropbox", id: session, offset: offset))
                    continue
                }
                let summary = Self.summary(response) ?? ""
                if summary.contains("not_found") || summary.contains("closed") {
                    // The session is gone. If it is gone because our finish went through and only
                    // its answer was lost, the file is already there: take it, never a second copy.
                    if last, let stored = try committed(at: path, spoolPath: spoolPath, length: length) { return stored }
                    throw StorageProviderError("the Dropbox upload session is gone", transient: true, sessionLost: true)
                }
                throw failure("upload", response)
            default:
                throw failure("upload", response)
            }
        }
    }

    /// The file at `path`, if it holds exactly the spool's bytes (same size and content hash).
    func committed(at path: String, spoolPath: String, length: Int64) throws -> StoredFile? {
        let body = try JSONSerialization.data(withJSONObject: ["path": path])
        let response = try calls.call(HTTPRequest(method: "POST", url: "\(apiURL)/files/get_metadata", headers: [("Content-Type", "application/json")],
                                                  body: .bytes(Array(body))))
        guard response.status == 200, let json = try? calls.object(response.body), json[".tag"] as? String == "file",
              (json["size"] as? NSNumber)?.int64Value == length, let id = json["id"] as? String,
              let theirs = (json["content_hash"] as? String)?.lowercased() else { return nil }
        let ours = DropboxContentHash()
        let fd = open(spoolPath, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 256 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard n > 0 else { if n < 0 { return nil }; break }
            buffer.withUnsafeBytes { ours.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        guard Sodium.hex(ours.finish()) == theirs else { return nil }
        return StoredFile(fileID: id, path: String((json["path_display"] as? String ?? path).dropFirst()), size: length,
                          checksums: ["dropbox-content-hash": theirs])
    }

    public func delete(fileID: String) throws {
        let body = try JSONSerialization.data(withJSONObject: ["path": fileID])
        let response = try calls.call(HTTPRequest(method: "POST", url: "\(apiURL)/files/delete_v2", headers: [("Content-Type", "application/json")],
                                                  body: .bytes(Array(body))))
        if response.status == 200 { return }
        if response.status == 409, Self.summary(response)?.contains("not_found") == true { return }
        throw failure("delete", response)
    }

    public func size(fileID: String) throws -> Int64? {
        let body = try JSONSerialization.data(withJSONObject: ["path": fileID])
        let response = try calls.call(HTTPRequest(method: "POST", url: "\(apiURL)/files/get_metadata", headers: [("Content-Type", "application/json")],
                                                  body: .bytes(Array(body))))
        if response.status == 409, Self.summary(response)?.contains("not_found") == true { return nil }
        guard response.status == 200 else { throw failure("file lookup", response) }
        let json = try calls.object(response.body)
        guard json[".tag"] as? String == "file", let size = (json["size"] as? NSNumber)?.int64Value else { return nil }
        return size
    }

    /// `files/download`: the argument in `Dropbox-API-Arg`, the content as the body.
    public func download(fileID: String, length: Int64, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: ["path": fileID]), as: UTF8.self)
        let request = HTTPRequest(method: "POST", url: "\(contentURL)/files/download", headers: [("Dropbox-API-Arg", Self.headerSafe(json))],
                                  body: .bytes([]))
        try calls.download(request, length: length, what: "download", into: sink)
    }

    // MARK: Reconciliation

    /// Every file under `/Intake`: `files/list_folder` with `recursive: true`, then
    /// `files/list_folder/continue` with the cursor while `has_more` says so. Folder and deleted
    /// entries are skipped. A cursor Dropbox answers with `reset` is dropped and the listing
    /// starts over (a few times at most), as the documentation asks; no `/Intake` means no files.
    /// https://www.dropbox.com/developers/documentation/http/documentation#files-list_folder
    public func listFiles() throws -> [ListedFile] {
        for _ in 0..<3 {
            var files: [ListedFile] = []
            var response = try rpc("files/list_folder", ["path": "/" + IntakeFolder.name, "recursive": true, "include_deleted": false])
            if response.status == 409, Self.summary(response)?.contains("not_found") == true { return [] }
            while true {
                if response.status == 409, Self.summary(response)?.contains("reset") == true { break }
                guard response.status == 200 else { throw failure("file listing", response) }
                let json = try calls.object(response.body)
                guard let entries = json["entries"] as? [[String: Any]], let cursor = json["cursor"] as? String else {
                    throw StorageProviderError("Dropbox listed a folder without its entries or cursor", transient: true)
                }
                for entry in entries where entry[".tag"] as? String == "file" {
                    guard let id = entry["id"] as? String, let path = entry["path_display"] as? String else {
                        throw StorageProviderError("Dropbox listed a file without its id or path", transient: true)
                    }
                    files.append(ListedFile(fileID: id, path: String(path.dropFirst()), size: (entry["size"] as? NSNumber)?.int64Value))
                }
                guard json["has_more"] as? Bool == true else { return files.sorted { ($0.path, $0.fileID) < ($1.path, $1.fileID) } }
                response = try rpc("files/list_folder/continue", ["cursor": cursor])
            }
        }
        throw StorageProviderError("Dropbox kept resetting the listing of /\(IntakeFolder.name)", transient: true)
    }

    /// `files/move_v2` from the file's id to `/Intake Quarantine/<its folders below Intake>/<name>`
    /// (Dropbox makes the folders; a taken name is renamed by `autorename`, nothing overwritten).
    /// The id stays the file's.
    /// https://www.dropbox.com/developers/documentation/http/documentation#files-move
    public func quarantine(_ file: ListedFile) throws -> ListedFile {
        let to = "/" + (IntakeFolder.quarantineFolders(for: file.path) + [file.name]).map(Self.component).joined(separator: "/")
        let response = try rpc("files/move_v2", ["from_path": file.fileID, "to_path": to, "autorename": true])
        guard response.status == 200 else { throw failure("move to quarantine", response) }
        let metadata = try calls.object(response.body)["metadata"] as? [String: Any]
        guard let path = metadata?["path_display"] as? String else { throw StorageProviderError("Dropbox moved the file but did not say where", transient: false) }
        return ListedFile(fileID: metadata?["id"] as? String ?? file.fileID, path: String(path.dropFirst()),
                          size: (metadata?["size"] as? NSNumber)?.int64Value ?? file.size)
    }

    // MARK: Calls

    /// An API endpoint call: the argument as the JSON body.
    func rpc(_ endpoint: String, _ argument: [String: Any]) throws -> HTTPResponse {
        let body = try JSONSerialization.data(withJSONObject: argument, options: [.sortedKeys])
        return try calls.call(HTTPRequest(method: "POST", url: "\(apiURL)/\(endpoint)", headers: [("Content-Type", "application/json")],
                                          body: .bytes(Array(body))))
    }

    /// A content endpoint call: the argument as HTTP-header-safe JSON in `Dropbox-API-Arg`.
    func content(_ endpoint: String, argument: [String: Any], body: HTTPRequest.Body, renewed: inout Bool) throws -> HTTPResponse {
        let json = String(decoding: try JSONSerialization.data(withJSONObject: argument, options: [.sortedKeys]), as: UTF8.self)
        let request = HTTPRequest(method: "POST", url: "\(contentURL)/files/\(endpoint)",
                                  headers: [("Content-Type", "application/octet-stream"), ("Dropbox-API-Arg", Self.headerSafe(json))], body: body)
        return try calls.call(request, renewed: &renewed)
    }

    /// `{"error":{".tag":"incorrect_offset","correct_offset":N}}`, or inside `lookup_failed` for `finish`.
    /// N is an offset only as a whole number of bytes from 0 to Int64.max: `NSNumber.int64Value`
    /// would cut 8.5 to 8 and turn 1e30 into Int64.min, from which the next chunk's length overflows.
    static func correctOffset(_ body: [UInt8]) -> Int64? {
        guard let json = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any], let error = json["error"] as? [String: Any] else { return nil }
        let inner = (error["lookup_failed"] as? [String: Any]) ?? error
        guard inner[".tag"] as? String == "incorrect_offset", let offset = ProviderCalls.wholeNumber(inner["correct_offset"]), offset >= 0 else { return nil }
        return offset
    }

    /// A path component Dropbox takes: no slashes or control characters, not empty.
    static func component(_ raw: String) -> String {
        let cleaned = String(raw.unicodeScalars.map { $0.value < 0x20 || $0 == "/" || $0 == "\\" ? "_" : Character($0) })
            .trimmingCharacters(in: .whitespaces)
        return cleaned.isEmpty || cleaned == "." || cleaned == ".." ? "_" : cleaned
    }

    /// JSON with every non-ASCII character as `\uXXXX`, as the `Dropbox-API-Arg` header requires.
    static func headerSafe(_ json: String) -> String {
        var out = ""
        for unit in json.utf16 {
            if unit < 0x80 && unit != 0x7F { out.unicodeScalars.append(Unicode.Scalar(unit)!) } else { out += String(format: "\\u%04x", unit) }
        }
        return out
    }

    private func failure(_ what: String, _ response: HTTPResponse) -> StorageProviderError {
        calls.failure(what, response)
    }

    /// Dropbox's reason: `error_summary`.
    static func summary(_ response: HTTPResponse) -> String? {
        (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["error_summary"] as? String
    }
}
