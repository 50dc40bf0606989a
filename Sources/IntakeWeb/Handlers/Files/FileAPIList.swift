import Intake
import Web

/// `GET /api/v1/uploads?portal=&client=&from=&to=&status=&account=&q=&cursor=&limit=`: the
/// owner's files, newest first, at most 200 a page, with the next page's cursor.
enum FileAPIList {
    static func handle(_ context: RequestContext) throws -> Response {
        let query = try context.request.query()
        let (files, next) = try context.stores.files.list(userID: context.user!.id, filter: try FileFilterForm.parse(query),
                                                          after: try FileFilterForm.cursor(query["cursor"]),
                                                          limit: max(1, min(200, Int(query["limit"] ?? "50") ?? 50)))
        return .json([
            "uploads": .array(files.map(FileJSON.value)),
            "nextCursor": next.map { .string(String($0)) } ?? .null,
        ])
    }
}
