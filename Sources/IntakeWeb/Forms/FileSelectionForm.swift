import Intake
import Web

/// The files ticked on the files page (`id` once per box), for the zip and the bulk delete:
/// at most `limit`, each one the owner's. Another owner's id, or one that does not exist, is
/// “no such file”, as for a single file, so ids reveal nothing.
enum FileSelectionForm {
    /// The most files one action takes: a zip of them is one request that holds a thread.
    static let limit = 500

    /// A selection the action cannot take: said on the files page the owner came from.
    struct Refusal: Error {
        let message: String
    }

    /// Back to the list the form was sent from (its filters and page kept), with `message`.
    static func back(_ context: RequestContext, _ message: String) -> Response {
        context.flash(.error, message)
        return .redirect(to: FileListReturn.path(context.formFields["return_to"]))
    }

    /// `action` done with the selected files, or the owner sent back to the list saying why
    /// the selection cannot be taken (none, too many).
    static func handle(_ context: RequestContext, _ action: ([FileRecord]) throws -> Response) throws -> Response {
        let selected: [FileRecord]
        do {
            selected = try files(context)
        } catch let refusal as Refusal {
            return back(context, refusal.message)
        }
        return try action(selected)
    }

    /// The selected files, in the order the page listed them (duplicates once).
    static func files(_ context: RequestContext) throws -> [FileRecord] {
        var seen = Set<Int64>(), ids: [Int64] = []
        for raw in context.formFields.values("id") {
            guard let id = Int64(raw.trimmingSpaces()), id > 0 else {
                throw HTTPError.badRequest("“\(raw.prefix(20))” is not a file of this list. Go back to the files page and select again.")
            }
            if seen.insert(id).inserted { ids.append(id) }
        }
        guard !ids.isEmpty else {
            throw Refusal(message: "Select one or more files first: tick the box beside each file.")
        }
        guard ids.count <= limit else {
            throw Refusal(message: "\(ids.count) files are selected; up to \(limit) can be taken at once. Select fewer and try again.")
        }
        return try ids.map { id in
            guard let file = try context.stores.files.find(id: id), file.userID == context.user!.id else {
                throw HTTPError(.notFound, code: "not_found", "There is no such file.")
            }
            return file
        }
    }
}
