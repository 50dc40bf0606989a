import Curl
import Foundation

/// Google Drive (API v3) as a `StorageProvider`.
///
/// Folders are found by name (or created) under an "Intake" folder in the Drive's root. Files go
/// up with the resumable upload protocol: one session per file, then chunks of a multiple of
/// 256 KiB (8 MiB by default) sent straight from the spool. After a chunk fails (a dropped
/// connection, 5xx, 429 or a 403 rate limit) the session is asked how much it holds
/// (`Content-Range: bytes */N`, answered by 308 with `Range`) and sending resumes from there, never
/// from the start. A 401 gets one fresh access token. Other 403s are read by their reason: a full
/// Drive, or a grant the owner must reconnect (`Refusal`).
/// https://developers.google.com/drive/api/guides/manage-uploads#resumable
public struct GoogleDriveStorage: StorageProvider {
    public static let folderMimeType = "application/vnd.google-apps.folder"
    public static let defaultChunkSize: Int64 = 8 * 1024 * 1024

    /// `https://www.googleapis.com/drive/v3` and `https://www.googleapis.com/upload/drive/v3`, or a test's fake.
    let apiURL: String
    let uploadURL: String
    let chunkSize: Int64
    let calls: ProviderCalls

    public init(apiURL: String, uploadURL: String, client: CurlClient, chunkSize: Int64 = defaultChunkSize, retry: RetryPolicy = RetryPolicy(),
                sleep: @escaping @Sendable (Double) -> Void = { Thread.sleep(forTimeInterval: $0) },
                token: @escaping (_ refresh: Bool) throws -> String) {
        precondition(chunkSize > 0 && chunkSize % (256 * 1024) == 0, "Drive chunks are a multiple of 256 KiB")
        self.apiURL = apiURL
        self.uploadURL = uploadURL
        self.chunkSize = chunkSize
        calls = ProviderCalls(name: "Drive", client: client, retry: retry, sleep: sleep, token: token,
                              errors: ProviderErrors(detail: Self.reason, throttled: { Self.refusal($0) == .rateLimited }, failure: Self.failure))
    }

    public func store(spoolPath: String, length: Int64, fileName: String, contentType: String, folder: [String],
                      resume: ProviderSession?, checkpoint: (ProviderSession) throws -> Void) throws -> StoredFile {
        let names = ["Intake"] + folder
        var json: [String: Any]?
        if let url = resume?.url, resume?.provider == "drive" {
            // A session from before: ask it what it holds and go on (a lost one means starting over).
            do {
                json = try send(session: url, spoolPath: spoolPath, length: length, askFirst: true, checkpoint: checkpoint)
            } catch let error as StorageProviderError where error.sessionLost {
                json = nil
            }
        }
        if json == nil {
            var parent = "root"
            for name in names { parent = try folderID(named: name, in: parent) }
            let session = try startSession(fileName: fileName, contentType: contentType, length: length, parent: parent)
            try checkpoint(ProviderSession(provider: "drive", url: session))
            json = try send(session: session, spoolPath: spoolPath, length: length, askFirst: false, checkpoint: checkpoint)
        }
        guard let json, let id = json["id"] as? String else { throw StorageProviderError("Drive finished the upload without a file id", transient: true) }
        let size = (json["size"] as? String).flatMap { Int64($0) } ?? length
        guard size == length else {
            throw StorageProviderError("Drive holds \(size) bytes of \(length)", transient: true)
        }
        var checksums: [String: String] = [:]
        if let sha256 = json["sha256Checksum"] as? String { checksums["sha256"] = sha256.lowercased() }
        if let md5 = json["md5Checksum"] as? String { checksums["md5"] = md5.lowercased() }
        return StoredFile(fileID: id, path: (names + [fileName]).joined(separator: "/"), size: size, checksums: checksums)
    }

    public func delete(fileID: String) throws {
        let response = try calls.call(HTTPRequest(method: "DELETE", url: "\(apiURL)/files/\(FormEncoding.encode(fileID))"))
        guard response.status == 204 || response.status == 200 || response.status == 404 else { throw failure("delete", response) }
    }

    public func size(fileID: String) throws -> Int64? {
        let response = try calls.call(HTTPRequest(url: "\(apiURL)/files/\(FormEncoding.encode(fileID))?fields=id,size,trashed"))
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw failure("file lookup", response) }
        let json = try calls.object(response.body)
        if json["trashed"] as? Bool == true { return nil }
        guard let size = (json["size"] as? String).flatMap({ Int64($0) }) else {
            throw StorageProviderError("Drive gave no size for the file (a Google Docs file cannot be downloaded as it is)", transient: false)
        }
        return size
    }

    /// `files.get` with `alt=media`: the content itself.
    public func download(fileID: String, length: Int64, into sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        try calls.download(HTTPRequest(url: "\(apiURL)/files/\(FormEncoding.encode(fileID))?alt=media"), length: length, what: "download",
                           into: sink)
    }

    // MARK: Reconciliation

    /// The most `files.list` is asked for per page (Drive's own maximum); Drive may answer with
    /// fewer, or none, before the last page, so only the absence of `nextPageToken` ends a list.
    static let listPageSize = 1000

    /// Every file under the Intake folders in the Drive's root (one, unless two uploads made one
    /// each at the same moment: both are Intake's), one folder at a time with `files.list` and
    /// `q = '<folder>' in parents and trashed = false`, page after page; folders are descended
    /// into, each once. What is in the bin is not listed.
    /// https://developers.google.com/drive/api/reference/rest/v3/files/list
    public func listFiles() throws -> [ListedFile] {
        var files: [ListedFile] = []
        var folders = try children(of: "root", folderNamed: IntakeFolder.name).map { (id: $0.id, path: IntakeFolder.name) }
        var seen = Set(folders.map(\.id))
        while let folder = folders.popLast() {
            for child in try children(of: folder.id) {
                let path = folder.path + "/" + child.name
                if child.mimeType == Self.folderMimeType {
                    if seen.insert(child.id).inserted { folders.append((child.id, path)) }
                } else {
                    files.append(ListedFile(fileID: child.id, path: path, size: child.size))
                }
            }
        }
        return files.sorted { ($0.path, $0.fileID) < ($1.path, $1.fileID) }
    }

    /// An item of a folder as `files.list` describes it.
    struct Child {
        let id: String
        let name: String
        let mimeType: String
        let size: Int64?
    }

    /// The items of `parent` that are not in the bin (only its folders named `folderNamed`, when
    /// given), every page of them.
    func children(of parent: String, folderNamed name: String? = nil) throws -> [Child] {
        var q = "'\(Self.quote(parent))' in parents and trashed = false"
        if let name { q = "name = '\(Self.quote(name))' and mimeType = '\(Self.folderMimeType)' and " + q }
        let base = "\(apiURL)/files?q=\(FormEncoding.encode(q))&fields=\(FormEncoding.encode("nextPageToken,files(id,name,mimeType,size)"))"
            + "&pageSize=\(Self.listPageSize)&spaces=drive"
        var children: [Child] = []
        var pageToken: String?
        repeat {
            let response = try calls.call(HTTPRequest(url: base + (pageToken.map { "&pageToken=\(FormEncoding.encode($0))" } ?? "")))
            guard response.status == 200 else { throw failure("file listing", response) }
            let json = try calls.object(response.body)
            guard let page = json["files"] as? [[String: Any]] else { throw StorageProviderError("Drive listed a folder without its files", transient: true) }
            for item in page {
                guard let id = item["id"] as? String, let itemName = item["name"] as? String else {
                    throw StorageProviderError("Drive listed a file without its id or name", transient: true)
                }
                children.append(Child(id: id, name: itemName, mimeType: item["mimeType"] as? String ?? "",
                                      size: (item["size"] as? String).flatMap { Int64($0) }))
            }
            pageToken = json["nextPageToken"] as? String
        } while pageToken != nil
        return children
    }

    /// `files.update` with `addParents` and `removeParents`: the file leaves its folders for
    /// `Intake Quarantine/<its folders below Intake>` in the Drive's root (found or made as an
    /// upload's folders are). Its id, and so any link to it, stays the same.
    /// https://developers.google.com/drive/api/reference/rest/v3/files/update
    public func quarantine(_ file: ListedFile) throws -> ListedFile {
        let url = "\(apiURL)/files/\(FormEncoding.encode(file.fileID))"
        let found = try calls.call(HTTPRequest(url: url + "?fields=id,name,parents"))
        guard found.status == 200 else { throw failure("file lookup", found) }
        let json = try calls.object(found.body)
        let parents = json["parents"] as? [String] ?? []
        let name = json["name"] as? String ?? file.name
        let folders = IntakeFolder.quarantineFolders(for: file.path)
        var target = "root"
        for folder in folders { target = try folderID(named: folder, in: target) }
        guard !parents.contains(target) else { return ListedFile(fileID: file.fileID, path: (folders + [name]).joined(separator: "/"), size: file.size) }
        let moved = try calls.call(HTTPRequest(
            method: "PATCH",
            url: url + "?addParents=\(FormEncoding.encode(target))&removeParents=\(FormEncoding.encode(parents.joined(separator: ",")))&fields=id,name,parents",
            headers: [("Content-Type", "application/json; charset=UTF-8")], body: .bytes(Array("{}".utf8))))
        guard moved.status == 200 else { throw failure("move to quarantine", moved) }
        return ListedFile(fileID: file.fileID, path: (folders + [name]).joined(separator: "/"), size: file.size)
    }

    // MARK: Folders

    /// The id of the folder `name` directly in `parent`, created when there is none.
    func folderID(named name: String, in parent: String) throws -> String {
        let q = "name = '\(Self.quote(name))' and mimeType = '\(Self.folderMimeType)' and '\(Self.quote(parent))' in parents and trashed = false"
        let url = "\(apiURL)/files?q=\(FormEncoding.encode(q))&fields=files(id)&pageSize=1&spaces=drive"
        let found = try calls.call(HTTPRequest(url: url))
        guard found.status == 200 else { throw failure("folder lookup", found) }
        if let files = try calls.object(found.body)["files"] as? [[String: Any]], let id = files.first?["id"] as? String { return id }
        let metadata = try JSONSerialization.data(withJSONObject: ["name": name, "mimeType": Self.folderMimeType, "parents": [parent]])
        let created = try calls.call(HTTPRequest(method: "POST", url: "\(apiURL)/files?fields=id",
                                           headers: [("Content-Type", "application/json; charset=UTF-8")], body: .bytes(Array(metadata))))
        guard created.status == 200, let id = try calls.object(created.body)["id"] as? String else { throw failure("folder creation", created) }
        return id
    }

    /// A string inside single quotes in a Drive query: backslash and quote escaped.
    static func quote(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
    }

    // MARK: Resumable upload

    func startSession(fileName: String, contentType: String, length: Int64, parent: String) throws -> String {
        let metadata = try JSONSerialization.data(withJSONObject: ["name": fileName, "parents": [parent]])
        let response = try calls.call(HTTPRequest(
            method: "POST", url: "\(uploadURL)/files?uploadType=resumable&fields=id,size,sha256Checksum,md5Checksum",
            headers: [("Content-Type", "application/json; charset=UTF-8"), ("X-Upload-Content-Type", contentType),
                      ("X-Upload-Content-Length", String(length))],
            body: .bytes(Array(metadata))))
        guard response.status == 200, let location = response.header("location") else { throw failure("upload start", response) }
        return location
    }

    /// Sends the spool in chunks; returns the file's metadata from the final answer. With
    /// `askFirst` the session is asked what it holds before anything is sent (a resumed session).
    /// Each chunk Drive takes is reported to `checkpoint` (which keeps the caller's lease alive).
    func send(session: String, spoolPath: String, length: Int64, askFirst: Bool,
              checkpoint: (ProviderSession) throws -> Void = { _ in }) throws -> [String: Any] {
        var offset: Int64 = 0
        var failures = 0
        var refreshed = false
        var mustAsk = askFirst
        while true {
            let response: HTTPResponse
            do {
                if mustAsk {
                    response = try put(session, range: "bytes */\(length)", body: .none)
                } else {
                    let count = min(chunkSize, length - offset)
                    let range = length == 0 ? "bytes */0" : "bytes \(offset)-\(offset + count - 1)/\(length)"
                    response = try put(session, range: range, body: count > 0 ? .file(path: spoolPath, offset: offset, length: count) : .none)
                }
            } catch let error as CurlError {
                failures += 1
                guard let wait = calls.retry.delay(afterAttempt: failures, status: nil, retryAfter: nil, transientError: error.isTransient,
                                             random: Double.random(in: 0..<1), now: Date()) else {
                    throw StorageProviderError("Drive upload: curl code \(error.code)", transient: true)
                }
                calls.sleep(wait)
                mustAsk = true
                continue
            }
            switch response.status {
            case 200, 201:
                return try calls.object(response.body)
            case 308:
                // The bytes the session holds: `Range: bytes=0-N`, none without the header. A
                // chunk that moved nothing forward counts as a failure, so this cannot loop forever.
                let held = Self.persisted(response.header("range")) ?? 0
                if !mustAsk && held <= offset {
                    failures += 1
                    guard failures < calls.retry.maxAttempts else { throw StorageProviderError("Drive accepted none of the chunk", transient: true) }
                }
                offset = held
                mustAsk = false
                try checkpoint(ProviderSession(provider: "drive", url: session, offset: held))
            case 401 where !refreshed:
                refreshed = true
                _ = try calls.token(true)
                mustAsk = true
            case 404, 410:
                throw StorageProviderError("the Drive upload session expired", transient: true, sessionLost: true)
            default:
                failures += 1
                guard let wait = calls.retry.delay(afterAttempt: failures, status: calls.retryStatus(response), retryAfter: response.header("retry-after"),
                                             transientError: false, random: Double.random(in: 0..<1), now: Date()) else {
                    throw failure("upload", response)
                }
                calls.sleep(wait)
                mustAsk = true
            }
        }
    }

    func put(_ session: String, range: String, body: HTTPRequest.Body) throws -> HTTPResponse {
        try calls.client.perform(HTTPRequest(method: "PUT", url: session,
                                             headers: [("Authorization", "Bearer \(try calls.token(false))"), ("Content-Range", range)], body: body))
    }

    /// `bytes=0-1048575` → 1048576. The last byte's index is plain digits (`Int64` alone would take
    /// `-8` and `+8`) and below Int64.max (whose successor overflows); anything else is no answer.
    static func persisted(_ range: String?) -> Int64? {
        guard let range, range.hasPrefix("bytes=0-") else { return nil }
        let digits = Substring(range.utf8.dropFirst("bytes=0-".utf8.count))
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              let last = Int64(digits), last < .max else { return nil }
        return last + 1
    }

    // MARK: Calls

    private func failure(_ what: String, _ response: HTTPResponse) -> StorageProviderError {
        calls.failure(what, response)
    }

    /// Drive's reason: `{"error":{"errors":[{"reason":…}]}}`, or in the newer shape without
    /// `errors`, `{"error":{"details":[{"reason":…}]}}`.
    static func reason(_ response: HTTPResponse) -> String? {
        let error = errorObject(response)
        return (error?["errors"] as? [[String: Any]])?.first?["reason"] as? String
            ?? (error?["details"] as? [[String: Any]])?.lazy.compactMap { $0["reason"] as? String }.first
    }

    /// What a 403 from Drive means, read from every reason its body gives: the classic
    /// `errors[].reason`, and the newer `status` and `details[].reason`
    /// (https://developers.google.com/drive/api/guides/handle-errors).
    enum Refusal: Equatable {
        /// `userRateLimitExceeded`, `rateLimitExceeded`: "use an exponential backoff algorithm and
        /// try again later", as for 429.
        case rateLimited
        /// `storageQuotaExceeded`: the owner's Drive is full; no retry helps until space is freed.
        case storageFull
        /// `insufficientPermissions` (`ACCESS_TOKEN_SCOPE_INSUFFICIENT`): the grant does not cover
        /// the call, and a new access token from it would not either; the owner must reconnect.
        case reconnect
    }

    /// The reasons of `Refusal.rateLimited`, old shape and new (`details[].reason`, `status`).
    static let rateLimitReasons: Set<String> = ["userRateLimitExceeded", "rateLimitExceeded", "RATE_LIMIT_EXCEEDED", "RESOURCE_EXHAUSTED"]
    /// The reasons of `Refusal.reconnect`, old shape and new.
    static let reconnectReasons: Set<String> = ["insufficientPermissions", "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "UNAUTHENTICATED"]

    /// The refusal a 403 stands for; nil for any other answer, and for a 403 with another reason
    /// (`insufficientFilePermissions`, `domainPolicy`, …: final, with the reason quoted).
    static func refusal(_ response: HTTPResponse) -> Refusal? {
        guard response.status == 403, let error = errorObject(response) else { return nil }
        var reasons = Set(((error["errors"] as? [[String: Any]]) ?? []).compactMap { $0["reason"] as? String })
        reasons.formUnion(((error["details"] as? [[String: Any]]) ?? []).compactMap { $0["reason"] as? String })
        if let status = error["status"] as? String { reasons.insert(status) }
        if !reasons.isDisjoint(with: rateLimitReasons) { return .rateLimited }
        if reasons.contains("storageQuotaExceeded") { return .storageFull }
        if !reasons.isDisjoint(with: reconnectReasons) { return .reconnect }
        return nil
    }

    /// The failure a refusal is, worded for the client who sent the file and for the owner.
    static func failure(_ what: String, _ response: HTTPResponse) -> StorageProviderError? {
        let google = reason(response).map { " (Google: \($0))" } ?? ""
        switch refusal(response) {
        case .rateLimited?:
            return StorageProviderError("Google Drive is limiting how fast this account may upload\(google); the file is kept and sent again later",
                                        transient: true)
        case .storageFull?:
            return StorageProviderError("The owner's Google Drive is full\(google), so the file cannot be stored there until space is freed in it",
                                        transient: false, accountProblem: .full)
        case .reconnect?:
            return StorageProviderError("Google Drive no longer lets Intake store files in this account\(google); the owner must reconnect it on the Storage page",
                                        transient: false, accountProblem: .reconnect)
        case nil:
            return nil
        }
    }

    private static func errorObject(_ response: HTTPResponse) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])?["error"] as? [String: Any]
    }
}
