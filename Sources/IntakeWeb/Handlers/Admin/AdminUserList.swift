import Intake
import Templates
import Web

/// `GET /admin/users?q=&after=&before=`: users, searchable, 50 to a page.
enum AdminUserList {
    /// Rows to a page.
    static let pageSize = 50

    static func handle(_ context: RequestContext) throws -> Response {
        let query = try context.request.query()
        let search = String((query["q"] ?? "").prefix(100))
        let after = try cursor(query["after"], "after")
        let before = try cursor(query["before"], "before")
        let page = try context.services.stores.users.page(search: search, after: after, before: before, limit: pageSize)
        func link(_ key: String, _ id: Int64) -> String {
            "/admin/users?" + (search.isEmpty ? "" : "q=" + URLEncodedForm.encode(search) + "&") + "\(key)=\(id)"
        }
        return try PageView.render(context, "admin/users", title: "Users", [
            "query": .string(search),
            "hasUsers": .bool(!page.users.isEmpty),
            "users": .list(page.users.map { user in
                ["id": .int(user.id), "name": .string(user.name), "email": .string(user.email), "role": .string(user.role == .admin ? "Administrator" : "Owner"),
                 "disabled": .bool(user.disabled), "created": .string(UTCDate.day(user.createdAt))]
            }),
            "previous": page.hasPrevious ? page.users.first.map { .string(link("before", $0.id)) } ?? .null : .null,
            "next": page.hasNext ? page.users.last.map { .string(link("after", $0.id)) } ?? .null : .null,
        ])
    }

    private static func cursor(_ text: String?, _ name: String) throws -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        guard let id = Int64(text), id >= 0 else { throw HTTPError.badRequest("'\(name)' must be a user id.") }
        return id
    }
}
