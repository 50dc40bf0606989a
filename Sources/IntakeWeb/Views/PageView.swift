import Intake
import Templates
import Web

/// Renders pages: the template named by the handler, its view model, and the data every page
/// shares (who is signed in, navigation for their role, the CSRF token, a flash), filled in here
/// and nowhere else.
enum PageView {
    static func render(_ context: RequestContext, _ template: String, title: String, status: HTTPStatus = .ok,
                       _ data: [String: TemplateValue] = [:]) throws -> Response {
        // `page` is the shared data's name: a view model's own `page` would be silently replaced.
        precondition(data["page"] == nil, "\(template): a view model must not name a value 'page'")
        var values = data
        values["page"] = .map(shared(context, title: title))
        let bytes = try context.services.templates.render(template, .map(values))
        var response = Response.html(bytes, status: status)
        response.headers.set("cache-control", "no-store")
        return response
    }

    static func shared(_ context: RequestContext, title: String) -> [String: TemplateValue] {
        var page: [String: TemplateValue] = [
            "title": .string(title),
            "csrfToken": .string(context.csrfToken),
            "version": .string(IntakeVersion.current),
            "path": .string(context.request.path),
            "isPortalPage": .bool(context.request.path.hasPrefix("/p/")),
        ]
        if let user = context.user {
            page["user"] = ["name": .string(user.name), "email": .string(user.email), "isAdmin": .bool(user.role == .admin)]
            let path = context.request.path
            // A migration's page belongs to the Storage page it is started from.
            let section = isSection("/dashboard/migrations", of: path) ? "/dashboard/settings" : path
            page["nav"] = .list(Menu.current(in: user.role == .admin ? .admin : .owner, path: section))
            page["accountCurrent"] = .bool(path == "/account")
            if user.role == .admin, isSection("/admin", of: path) {
                page["adminNav"] = ["isShown": .bool(true), "items": .list(Menu.current(in: .adminArea, path: path))]
            }
            // admin.js: enhanced admin forms, and confirmation before destructive posts (data-confirm).
            page["loadsFormScript"] = .bool(true)
        }
        if let flash = context.flash {
            page["flash"] = ["kind": .string(flash.kind.rawValue), "message": .string(flash.message),
                             "isError": .bool(flash.kind == .error)]
        }
        return page
    }

    /// `path` is `href` or lies under it.
    static func isSection(_ href: String, of path: String) -> Bool {
        let p = path.utf8, h = href.utf8
        guard p.count >= h.count, p.starts(with: h) else { return false }
        return p.count == h.count || p[p.index(p.startIndex, offsetBy: h.count)] == UInt8(ascii: "/")
    }

    /// A role's links, built once with each one marked current in turn: every page shows one of
    /// these lists, so none is built per request.
    private struct Menu: Sendable {
        let hrefs: [String]
        let unmarked: [TemplateValue]
        let marked: [[TemplateValue]]

        init(_ items: [(String, String)]) {
            hrefs = items.map(\.1)
            func list(current: String?) -> [TemplateValue] {
                items.map { label, href in ["label": .string(label), "href": .string(href), "current": .bool(href == current)] }
            }
            unmarked = list(current: nil)
            marked = items.map { list(current: $0.1) }
        }

        /// The links with the section `path` lies in marked: the longest link that is the path
        /// or a folder above it.
        static func current(in menu: Menu, path: String) -> [TemplateValue] {
            var current: Int?
            for (i, href) in menu.hrefs.enumerated() where PageView.isSection(href, of: path) {
                if current.map({ href.utf8.count > menu.hrefs[$0].utf8.count }) ?? true { current = i }
            }
            return current.map { menu.marked[$0] } ?? menu.unmarked
        }

        /// The header: an owner's sections; an admin's also lead to the admin area, which has a
        /// menu of its own under the header. The account is the name beside "Sign out".
        static let ownerItems: [(String, String)] = [
            ("Dashboard", "/dashboard"), ("Portals", "/dashboard/portals"), ("Files", "/dashboard/files"),
            ("Analytics", "/dashboard/analytics"), ("Storage", "/dashboard/settings"), ("Usage", "/dashboard/storage"), ("Billing", "/dashboard/billing"),
            ("Webhooks", "/dashboard/webhooks"),
        ]
        static let owner = Menu(ownerItems)
        static let admin = Menu(ownerItems + [("Admin", "/admin")])
        static let adminArea = Menu([
            ("Overview", "/admin"), ("Users", "/admin/users"), ("Pricing", "/admin/storage/pricing"),
            ("Quotas", "/admin/storage/quotas"), ("Plans", "/admin/tariffs"), ("Revenue", "/admin/billing"),
            ("Audit log", "/admin/audit"), ("Diagnostics", "/admin/diagnostics"),
        ])
    }
}
