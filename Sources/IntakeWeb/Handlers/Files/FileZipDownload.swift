import Integrations
import Intake
import Web
import Zip

/// `POST /dashboard/files/zip` (the files page's “Download as zip”, `id` once per file ticked):
/// the selected files as one zip, streamed as it is written — each file's bytes go from its
/// storage (local disk, Drive, Dropbox) into the response as they arrive, never kept whole in
/// memory or on disk. Entries are STORED, so the archive's length is known before the first
/// byte and a transfer cut short is reported as failed by the browser.
///
/// A selected file that cannot be read (its storage disconnected, its delivery not finished,
/// gone from its provider) refuses the whole zip with a message naming it: a zip silently
/// short of a file would be found out only when the file is needed.
enum FileZipDownload {
    static func handle(_ context: RequestContext) throws -> Response {
        try FileSelectionForm.handle(context) { files in
            let accounts = try context.stores.storageAccounts.list(userID: context.user!.id)
            let unavailable = files.compactMap { f in StoredFileAccess.unavailability(f, accounts: accounts).map { "“\(f.fileName)” (\($0))" } }
            if !unavailable.isEmpty {
                return FileSelectionForm.back(context, "No zip was made: \(listed(unavailable)) cannot be read now. "
                                              + "Deselect \(unavailable.count == 1 ? "it" : "them") and try again.")
            }
            // Every file's provider and size before the first byte: one gone from its storage is
            // named now, while the answer can still be an error page.
            var names = ZipEntryNames()
            var sources: [(entry: ZipStreamWriter.Entry, provider: StorageProvider, fileID: String)] = []
            do {
                for file in files {
                    let access = try StoredFileAccess(context, file, accounts: accounts)
                    let provider = try access.provider(context)
                    let size = try access.size(at: provider)
                    sources.append((ZipStreamWriter.Entry(name: names.unique(ClientFileName.clean(file.fileName)), modified: file.createdAt, size: size),
                                    provider, access.fileID))
                }
            } catch let error as HTTPError {
                return FileSelectionForm.back(context, "No zip was made: " + error.publicMessage)
            }
            for accountID in Set(files.compactMap(\.storageAccountID)) { try context.stores.storageAccounts.recordAccess(id: accountID) }
            var response = Response(status: .ok)
            let name = "Intake files \(UTCDate.day(context.services.clock.now())).zip"
            DownloadHeaders.set(&response, contentType: "application/zip", disposition: FileDownload.contentDisposition(name))
            response.headers.set("content-length", String(ZipStreamWriter.length(of: sources.map(\.entry))))
            response.body = .stream { writer in
                let zip = ZipStreamWriter { try writer.write($0) }
                for source in sources {
                    try zip.add(source.entry) { sink in
                        try source.provider.download(fileID: source.fileID, length: source.entry.size, into: sink)
                    }
                }
                try zip.finish()
            }
            return response
        }
    }

    /// “a”, “a and b”, “a, b and c”, or the first five and how many more.
    static func listed(_ items: [String]) -> String {
        let shown = Array(items.prefix(5)), rest = items.count - shown.count
        if rest > 0 { return shown.joined(separator: ", ") + " and \(rest) more" }
        return shown.count <= 1 ? shown.joined() : shown.dropLast().joined(separator: ", ") + " and " + shown.last!
    }
}
