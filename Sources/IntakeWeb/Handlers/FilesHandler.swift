import Foundation
import Integrations
import Intake
import Templates
import Web

/// The owner's files: `/dashboard/files` (filters, pages), download, delete, and the JSON list.
enum FilesHandler {
    static func store(_ context: RequestContext) -> FileStore { context.stores.files }

    /// The statuses a file can be filtered by, as the form offers them.
    static let statuses = FileStatusView.filterOptions

    static func filter(_ query: FormFields) throws -> FileStore.Filter {
        var f = FileStore.Filter()
        f.portalID = query["portal"].flatMap { Int64($0) }
        f.accountID = query["account"].flatMap { Int64($0) }
        f.client = query["client"].map { String($0.prefix(100)) }
        f.search = query["q"].map { String($0.prefix(100)) }
        f.status = query["status"].flatMap { statuses.map(\.value).contains($0) && !$0.isEmpty ? $0 : nil }
        f.from = try query["from"].flatMap(day)
        f.to = try query["to"].flatMap(day).map { $0 + 86400 }
        return f
    }

    /// `2026-11-21` → the epoch of its start (UTC); empty → nil; anything else is a 400.
    static func day(_ text: String) throws -> Int64? {
        if text.isEmpty { return nil }
        let parts = text.split(separator: "-").compactMap { Int($0) }
        guard parts.count == 3, (1970...9999).contains(parts[0]), (1...12).contains(parts[1]), (1...31).contains(parts[2]) else {
            throw HTTPError.badRequest("Dates are written 2026-11-21.")
        }
        var c = DateComponents()
        (c.year, c.month, c.day) = (parts[0], parts[1], parts[2])
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let date = calendar.date(from: c) else { throw HTTPError.badRequest("Dates are written 2026-11-21.") }
        return Int64(date.timeIntervalSince1970)
    }

    static func list(_ context: RequestContext) throws -> Response {
        let query = try context.request.query()
        let (files, next) = try store(context).list(userID: context.user!.id, filter: try filter(query),
                                                    before: query["before"].flatMap { Int64($0) }, limit: 50)
        let portals = try context.stores.portals.list(userID: context.user!.id)
        let accounts = try context.stores.storageAccounts.list(userID: context.user!.id)
        var nextLink: TemplateValue = .null
        if let next {
            let kept = query.filter { $0.name != "before" }.map { "\($0.name)=\(URLEncodedForm.encode($0.value))" }
            nextLink = .string("/dashboard/files?" + (kept + ["before=\(next)"]).joined(separator: "&"))
        }
        let here = "/dashboard/files" + (context.request.rawQuery.isEmpty ? "" : "?" + context.request.rawQuery)
        return try PageView.render(context, "dashboard/files", title: "Files", [
            "returnTo": .string(here), "files": .list(files.map(row)), "hasFiles": .bool(!files.isEmpty), "next": nextLink,
            "filters": ["q": .string(query["q"] ?? ""), "client": .string(query["client"] ?? ""), "from": .string(query["from"] ?? ""),
                        "to": .string(query["to"] ?? "")],
            "statuses": .list(statuses.map { s in
                ["value": .string(s.value), "label": .string(s.label), "selected": .bool((query["status"] ?? "") == s.value)]
            }),
            "accounts": .list(accounts.map { a in
                ["id": .int(a.id), "name": .string(a.provider.displayName + (a.email.map { " (\($0))" } ?? "")),
                 "selected": .bool(query["account"] == String(a.id))]
            }),
            "portals": .list(portals.map { p in
                ["id": .int(p.portal.id), "name": .string(p.portal.name), "selected": .bool(query["portal"] == String(p.portal.id))]
            }),
        ])
    }

    static func row(_ f: FileRecord) -> TemplateValue {
        let indicator = StorageSettingsHandler.Indicator(status: f.storageStatus ?? .disconnected, legacy: f.storageStatus == nil)
        let status = FileUploadStatus(rawValue: f.status)
        let available = f.storageStatus?.canAccessFiles == true && status == .uploaded
        let state = FileStatusView.mark(status, retrying: f.failureReason != nil)
        return ["id": .int(f.id), "name": .string(f.fileName), "portal": .string(f.portalName), "client": .string(f.clientName ?? f.clientEmail ?? "—"),
                "size": .string(ByteSize(bytes: f.size).description), "date": .string(UTCDate.minute(f.createdAt)), "status": .string(f.status),
                "state": state.map(TemplateValue.string) ?? .null, "reason": f.failureReason.map(TemplateValue.string) ?? .null,
                "retryable": .bool(status == .failed),
                "indicator": .string(indicator.colour), "indicatorLabel": .string(indicator.label),
                "downloadable": .bool(available)]
    }

    /// The file if it is the requester's; anyone else's id is a 404 like a missing one.
    static func owned(_ context: RequestContext) throws -> FileRecord {
        guard let file = try store(context).find(id: try AdminForms.id(context)), file.userID == context.user!.id else {
            throw HTTPError(.notFound, code: "not_found", "There is no such file.")
        }
        return file
    }

    /// `GET /api/uploads/:id/download`: local files through nginx (`X-Accel-Redirect`), so the
    /// worker thread is free at once; Drive and Dropbox files streamed from the provider (its size
    /// asked first, so a file gone from there is a clear 404 and the length is known). The name per
    /// RFC 6266 with `filename*`.
    static func download(_ context: RequestContext) throws -> Response {
        let file = try owned(context)
        let accounts = try context.stores.storageAccounts.list(userID: file.userID)
        switch StorageRules.downloadDecision(fileOwnerID: file.userID, requesterID: context.user!.id, fileAccountID: file.storageAccountID ?? -1,
                                             accounts: accounts.map { StorageRules.Account(id: $0.id, provider: $0.provider, status: $0.status) }) {
        case .notFound: throw HTTPError(.notFound, code: "not_found", "There is no such file.")
        case .unavailable(let message): throw HTTPError(.conflict, code: "file_unavailable", message)
        case .allow(let accountID):
            guard let fileID = file.providerFileID, file.status == FileUploadStatus.uploaded.rawValue, let account = accounts.first(where: { $0.id == accountID }) else {
                throw HTTPError(.conflict, code: "file_unavailable", "This file did not finish uploading, so there is nothing to download.")
            }
            try context.stores.storageAccounts.recordAccess(id: accountID)
            var response = Response(status: .ok)
            response.headers.set("content-type", file.contentType ?? "application/octet-stream")
            response.headers.set("content-disposition", contentDisposition(file.fileName))
            response.headers.set("cache-control", "private, no-store")
            if account.provider == .local {
                guard LocalDiskStorage(root: "/").resolve(fileID) != nil else { throw HTTPError(.notFound, code: "not_found", "There is no such file.") }
                response.headers.set("x-accel-redirect", "/_files/\(accountID)/" + fileID.split(separator: "/").map { URLEncodedForm.encode(String($0)) }.joined(separator: "/"))
                return response
            }
            let storageName = account.provider.displayName
            let provider: StorageProvider
            let size: Int64?
            do {
                provider = try context.services.storageProvider(for: account)
                size = try provider.size(fileID: fileID)
            } catch let error as StorageProviderError {
                throw HTTPError(HTTPStatus(502, "Bad Gateway"), code: "storage_failed", "\(storageName) could not be reached for this file: \(error.message)")
            }
            guard let size else {
                throw HTTPError(.notFound, code: "gone_from_storage", "The file is no longer in \(storageName): it was deleted or moved to the bin there.")
            }
            response.headers.set("content-length", String(size))
            // Headers are sent before the first byte; a failure after that can only cut the
            // transfer short, which the browser reports (the length is declared).
            response.body = .stream { writer in
                try provider.download(fileID: fileID, length: size) { try writer.write($0) }
            }
            return response
        }
    }

    /// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded` (RFC 6266 §4.3), of the
    /// name made safe again (files recorded before names were cleaned may carry a path).
    static func contentDisposition(_ raw: String) -> String {
        let name = ClientFileName.clean(raw)
        let ascii = String(name.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" ? Character($0) : "_" })
        return "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(URLEncodedForm.encode(name))"
    }

    /// The provider holding the file (the same one uploads use), or nil when its account is gone.
    static func provider(_ context: RequestContext, _ file: FileRecord) throws -> StorageProvider? {
        guard let id = file.storageAccountID,
              let account = try context.stores.storageAccounts.find(id: id) else { return nil }
        return try context.services.storageProvider(for: account)
    }

    /// `DELETE /api/uploads/:id`: `{"success":true,"deletedFromCloud":…,"deletedFromDatabase":…}`.
    static func apiDelete(_ context: RequestContext) throws -> Response {
        let file = try owned(context)
        let result = try delete(context, file)
        return .json(["success": true, "message": "File deleted successfully", "deletedFromCloud": .bool(result.deletedFromCloud),
                      "deletedFromDatabase": .bool(result.deletedFromDatabase)])
    }

    /// `GET /api/uploads/:id`: one file, in the shape of the list's entries.
    static func apiShow(_ context: RequestContext) throws -> Response {
        .json(json(try owned(context)))
    }

    /// `POST /dashboard/files/:id/delete`.
    static func formDelete(_ context: RequestContext) throws -> Response {
        let file = try owned(context)
        _ = try delete(context, file)
        context.flash(.success, "“\(file.fileName)” was deleted.")
        return .redirect(to: listPath(context.formFields["return_to"]))
    }

    /// `POST /dashboard/files/:id/retry`: a failed delivery back in line (its bytes are kept).
    static func retry(_ context: RequestContext) throws -> Response {
        let file = try owned(context)
        if try Deliveries(env: context.services.uploadEnvironment()).retry(file.id) {
            context.flash(.success, "“\(file.fileName)” will be delivered again in a moment.")
        } else {
            context.flash(.error, "“\(file.fileName)” cannot be delivered again: it is not a failed delivery, or its bytes are gone.")
        }
        return .redirect(to: listPath(context.formFields["return_to"]))
    }

    /// Where a delete goes back to: the list with the filters and page it was sent from; any other
    /// path is replaced by the plain list, so the field cannot send the owner anywhere else.
    static func listPath(_ returnTo: String?) -> String {
        let path = LocalRedirect.sanitize(returnTo, fallback: "/dashboard/files")
        return path.hasPrefix("/dashboard/files?") ? path : "/dashboard/files"
    }

    static func delete(_ context: RequestContext, _ file: FileRecord) throws -> (deletedFromCloud: Bool, deletedFromDatabase: Bool) {
        guard file.storageStatus?.canAccessFiles == true || file.providerFileID == nil else {
            throw HTTPError(.conflict, code: "file_unavailable", "The file's storage account cannot be reached, so the file is kept. Reconnect it first.")
        }
        do {
            return try store(context).delete(id: file.id, provider: try provider(context, file), by: AdminForms.actor(context))
        } catch let error as StorageProviderError {
            throw HTTPError(HTTPStatus(502, "Bad Gateway"), code: "storage_failed", "The storage refused the deletion: \(error.message)")
        } catch is FileStore.FileBusy {
            throw HTTPError(.conflict, code: "file_busy", "This file is being delivered to its storage right now. Try again once it is delivered.")
        }
    }

    /// `GET /api/v1/uploads?portal=&client=&from=&to=&status=&account=&q=&cursor=`.
    static func apiList(_ context: RequestContext) throws -> Response {
        let query = try context.request.query()
        let (files, next) = try store(context).list(userID: context.user!.id, filter: try filter(query),
                                                    before: query["cursor"].flatMap { Int64($0) }, limit: min(200, Int(query["limit"] ?? "50") ?? 50))
        return .json([
            "uploads": .array(files.map(json)),
            "nextCursor": next.map { .string(String($0)) } ?? .null,
        ])
    }

    /// A file as the API shows it.
    static func json(_ f: FileRecord) -> JSONValue {
        ["id": .string(String(f.id)), "fileName": .string(f.fileName), "size": .int(f.size), "portalId": .string(String(f.portalID)),
         "storageAccountId": f.storageAccountID.map { .string(String($0)) } ?? .null, "storageStatus": f.storageStatus.map { .string($0.rawValue) } ?? .null,
         "storageProvider": f.provider.map { .string($0.rawValue) } ?? .null,
         "status": .string(f.status), "failureReason": f.failureReason.map(JSONValue.string) ?? .null,
         "sha256": f.sha256.map(JSONValue.string) ?? .null, "clientName": f.clientName.map(JSONValue.string) ?? .null,
         "createdAt": .int(f.createdAt)]
    }
}
