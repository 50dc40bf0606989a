import Intake
import Templates
import Web

/// `GET /dashboard`: what the owner opens on. What needs attention (failed deliveries, storage
/// that needs reconnecting, a quota nearly full), the latest submissions with the new ones since
/// the previous visit marked, storage used of the quota, and each portal's link, count and QR
/// code. Every figure is a kept counter or a bounded read through an index, so the page costs
/// the same for an owner with a million files.
enum DashboardShow {
    static func handle(_ context: RequestContext) throws -> Response {
        let user = context.user!
        let stores = context.stores
        let previousVisit = try stores.dashboard.recordVisit(userID: user.id)
        let recent = try stores.files.list(userID: user.id, filter: FileStore.Filter(), after: nil, limit: DashboardPage.recentFiles).files
        let newCount = try previousVisit.map { try stores.dashboard.filesReceived(userID: user.id, after: $0, cap: DashboardPage.countCap) }
        let failed = try stores.dashboard.failedDeliveries(userID: user.id, cap: DashboardPage.countCap)
        let portals = try stores.portals.list(userID: user.id)
        let accounts = try stores.storageAccounts.list(userID: user.id)
        let quota = try stores.quotas.quota(userID: user.id)
        var attention: [TemplateValue] = []
        if failed > 0 {
            attention.append(attentionItem(text: DashboardPage.capped(failed, "file", "files") + " could not be delivered to storage.",
                                       link: "/dashboard/files?status=failed", action: "See the failed files"))
        }
        for account in accounts where !account.status.canAccessFiles {
            let name = account.provider.displayName + (account.email.map { " (\($0))" } ?? "")
            attention.append(attentionItem(text: "\(name) needs reconnecting: its files cannot be opened and its portals take no uploads.",
                                       link: "/dashboard/settings", action: "Reconnect \(name)"))
        }
        if let quota, quota.isOver || quota.isNear {
            attention.append(attentionItem(text: quota.isOver ? "Your storage is over its quota: new uploads are refused."
                                           : "Your storage is nearly full (\(ByteSize(bytes: quota.usedBytes)) of \(ByteSize(bytes: quota.effectiveBytes))).",
                                       link: "/dashboard/storage", action: "Get more storage"))
        }
        let base = context.services.configuration.baseURL.hasSuffix("/")
            ? String(context.services.configuration.baseURL.dropLast()) : context.services.configuration.baseURL
        return try PageView.render(context, "dashboard/index", title: "Dashboard", [
            "attention": .list(attention), "hasAttention": .bool(!attention.isEmpty),
            "hasSubmissions": .bool(!recent.isEmpty), "hasPortals": .bool(!portals.isEmpty),
            "firstVisit": .bool(previousVisit == nil),
            "newFiles": newCount.map { $0 == 0 ? .string("No new files") : .string(DashboardPage.capped($0, "new file", "new files")) } ?? .null,
            "hasNew": .bool((newCount ?? 0) > 0),
            "previousVisit": previousVisit.map(UTCDate.moment) ?? .null,
            "submissions": .list(DashboardPage.submissions(recent).prefix(DashboardPage.recentSubmissions)
                .map { DashboardPage.submission($0, previousVisit: previousVisit) }),
            "portals": .list(portals.map { DashboardPage.portal($0.portal, uploads: $0.uploads, baseURL: base) }),
            "usage": quota.map(DashboardPage.usage) ?? .null,
        ])
    }

    /// Something the owner should do, with the link that does it.
    static func attentionItem(text: String, link: String, action: String) -> TemplateValue {
        ["text": .string(text), "link": .string(link), "action": .string(action)]
    }
}
